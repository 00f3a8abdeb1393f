/**
 * Where a registry is reached (`[moby] registry/config.go`, `registry/service.go`): docker.io is
 * served by registry-1.docker.io; HTTPS everywhere, verified with the system's CAs plus the
 * registry's own from the certs dir (with a client certificate if one is there). Loopback
 * registries (127.0.0.0/8, localhost, ::1) and `--insecure-registry` entries (host[:port] or a
 * CIDR) are tried over HTTPS without verification first and over plain HTTP when HTTPS cannot
 * be spoken, as dockerd does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cidrContains, isIpv4, parsePrefix } from '../../network/ipv4';

export interface TlsSettings {
  /** CA certificates trusted besides the system's (`<certs dir>/<domain>/*.crt`). */
  ca?: Buffer[];
  /** A client certificate and its key (`<name>.cert` with `<name>.key`). */
  cert?: Buffer;
  key?: Buffer;
  /** Insecure registries: any certificate is accepted. */
  skipVerify?: boolean;
}

export interface RegistryEndpoint {
  /** The registry as references name it (`docker.io`, `127.0.0.1:5000`). */
  domain: string;
  /** Base URL of the API, without `/v2/`. */
  base: string;
  /** Plain-HTTP base used when the first connection to `base` fails (insecure registries). */
  fallbackBase?: string;
  tls: TlsSettings;
}

/** Where per-registry certificates live, as with dockerd (`/etc/docker/certs.d/<host:port>/ca.crt`). */
export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';

const DOCKER_IO = 'docker.io';

export function registryEndpoint(domain: string, insecureRegistries: readonly string[] = [], certsDir = DEFAULT_CERTS_DIR): RegistryEndpoint {
  const host = domain === DOCKER_IO ? 'registry-1.docker.io' : domain;
  const tls = certsDirTls(certsDir, domain);
  // A CA in the certs dir means its owner set the registry up for TLS: verified, even on
  // loopback (dockerd ignores certs.d for insecure registries; verifying is the safer reading).
  if (tls.ca || !isInsecure(domain, insecureRegistries)) return { domain, base: `https://${host}`, tls };
  return { domain, base: `https://${host}`, fallbackBase: `http://${host}`, tls: { ...tls, skipVerify: true } };
}

/** dockerd's certs.d layout: `*.crt` are CAs, `x.cert` + `x.key` a client certificate. */
function certsDirTls(certsDir: string, domain: string): TlsSettings {
  const dir = join(certsDir, domain.replace(/\//g, ''));
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return {};
  }
  const tls: TlsSettings = {};
  const ca = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n)));
  if (ca.length) tls.ca = ca;
  const cert = names.find((n) => n.endsWith('.cert') && names.includes(n.replace(/\.cert$/, '.key')));
  if (cert) {
    tls.cert = readFileSync(join(dir, cert));
    tls.key = readFileSync(join(dir, cert.replace(/\.cert$/, '.key')));
  }
  return tls;
}

function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const colon = domain.lastIndexOf(':');
  return colon > 0 && !domain.slice(0, colon).includes(':') ? domain.slice(0, colon) : domain;
}

function isInsecure(domain: string, insecure: readonly string[]): boolean {
  const host = hostOf(domain);
  if (host === 'localhost' || host === '::1' || (isIpv4(host) && host.startsWith('127.'))) return true;
  for (const entry of insecure) {
    if (entry === domain || entry === host) return true;
    if (entry.includes('/') && isIpv4(host) && inCidr(host, entry)) return true;
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const prefix = parsePrefix(cidr);
  return prefix !== undefined && cidrContains(prefix, ip);
}

/** A mirror URL as an endpoint serving `domain`'s repositories (messages name `domain`). */
export function mirrorEndpoint(url: string, domain: string = DOCKER_IO): RegistryEndpoint {
  const u = new URL(url);
  return { domain, base: `${u.protocol}//${u.host}`, tls: {} };
}

export interface MirrorSettings {
  insecureRegistries: readonly string[];
  /** `--registry-mirror`: docker.io's mirrors. */
  registryMirrors?: readonly string[];
  /** `--registry-host-mirror`: other registries' mirrors, by registry host. */
  registryHostMirrors?: Readonly<Record<string, readonly string[]>>;
  certsDir?: string;
}

/** Where `domain`'s repositories are read from, in order: its mirrors, then the registry itself. */
export function readEndpoints(domain: string, s: MirrorSettings): RegistryEndpoint[] {
  const mirrors = domain === DOCKER_IO ? s.registryMirrors ?? [] : s.registryHostMirrors?.[domain] ?? [];
  return [...mirrors.map((url) => mirrorEndpoint(url, domain)), registryEndpoint(domain, s.insecureRegistries, s.certsDir)];
}
