/**
 * Where a registry is reached (`[moby] registry/config.go`, `registry/service.go`): docker.io is
 * served by registry-1.docker.io; plain HTTP is used for loopback (127.0.0.0/8, localhost, ::1)
 * and for `--insecure-registry` entries (host[:port] or a CIDR), HTTPS for everything else.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';

export interface RegistryEndpoint {
  /** The registry as references name it (`docker.io`, `127.0.0.1:5000`). */
  domain: string;
  /** Base URL of the API, without `/v2/`. */
  base: string;
  secure: boolean;
  /** Extra CA certificates trusted for this registry (`<certs dir>/<domain>/*.crt`). */
  ca?: Buffer[];
}

/** Where per-registry CA certificates live, as with dockerd (`/etc/docker/certs.d/<host:port>/ca.crt`). */
export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';

const DOCKER_IO = 'docker.io';

/**
 * A registry with CA certificates in the certs dir is spoken to over HTTPS with them, even on
 * loopback (its owner set it up for TLS); otherwise loopback and insecure ones over HTTP.
 */
export function registryEndpoint(domain: string, insecureRegistries: readonly string[] = [], certsDir = DEFAULT_CERTS_DIR): RegistryEndpoint {
  const host = domain === DOCKER_IO ? 'registry-1.docker.io' : domain;
  const ca = caCertificates(certsDir, domain);
  const secure = ca.length > 0 || !isInsecure(domain, insecureRegistries);
  return { domain, base: `${secure ? 'https' : 'http'}://${host}`, secure, ...(ca.length ? { ca } : {}) };
}

function caCertificates(certsDir: string, domain: string): Buffer[] {
  const dir = join(certsDir, domain.replace(/\//g, ''));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.crt')).sort().map((n) => readFileSync(join(dir, n)));
}

function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const colon = domain.lastIndexOf(':');
  return colon > 0 && !domain.slice(0, colon).includes(':') ? domain.slice(0, colon) : domain;
}

function isInsecure(domain: string, insecure: readonly string[]): boolean {
  const host = hostOf(domain);
  if (host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'))) return true;
  for (const entry of insecure) {
    if (entry === domain || entry === host) return true;
    if (entry.includes('/') && isIPv4(host) && inCidr(host, entry)) return true;
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(net) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) === (toInt(net) & mask);
}

/** A `--registry-mirror` URL as an endpoint serving docker.io's repositories. */
export function mirrorEndpoint(url: string): RegistryEndpoint {
  const u = new URL(url);
  return { domain: DOCKER_IO, base: `${u.protocol}//${u.host}`, secure: u.protocol === 'https:' };
}
