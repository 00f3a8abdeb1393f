/**
 * Legacy `--link child:alias` on the default bridge, as dockerd keeps them: the parent knows each
 * child by ID and alias; the child is known as `/<parent>/<alias>` too (it shows among its
 * Names); the parent gets an /etc/hosts line and environment variables describing the child.
 */
import type { DnsRecord } from '../../network/types';
import { InvalidParameterError } from '../../errors';
import { normalizePortKey } from './network-plan';

/** A link that cannot be set up at start: dockerd answers these as plain 500s with its own text. */
export class LinkStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkStartError';
  }
}

export interface LegacyLink {
  /** The linked (child) container's ID. */
  id: string;
  /** The name the parent knows it by. */
  alias: string;
}

/** `name:alias`, `name` or `/name:/parent/alias` → the child reference and the alias. */
export function parseLink(link: string): { ref: string; alias: string } {
  const [refPart, aliasPart] = link.split(':', 2);
  const ref = refPart.replace(/^\//, '');
  if (!ref) throw new InvalidParameterError(`invalid link format: ${link}`);
  const alias = (aliasPart ?? ref).split('/').filter(Boolean).pop() ?? '';
  if (!alias) throw new InvalidParameterError(`invalid link format: ${link}`);
  return { ref, alias };
}

/** The child's link name, `/<parent>/<alias>` (parent names keep their leading slash). */
export const linkName = (parentName: string, alias: string) => `${parentName}/${alias}`;

interface Port {
  num: number;
  proto: string;
}

/** TCP first, then by number (moby's link port order). */
function byTcpThenNumber(a: Port, b: Port): number {
  if (a.proto === b.proto) return a.num - b.num;
  if (a.proto === 'tcp') return -1;
  if (b.proto === 'tcp') return 1;
  return a.proto < b.proto ? -1 : 1;
}

export interface LinkEnvInput {
  /** `/<parent>/<alias>`. */
  name: string;
  childIp: string;
  childEnv: readonly string[];
  exposedPorts: Record<string, unknown> | null | undefined;
}

/**
 * The environment a parent gets for one link: `<ALIAS>_PORT`, per exposed port
 * `<ALIAS>_PORT_<n>_<PROTO>` with `_ADDR`, `_PORT`, `_PROTO` (and `_START`/`_END` for runs of
 * consecutive ports), `<ALIAS>_NAME`, and the child's own variables as `<ALIAS>_ENV_<var>`.
 */
export function linkEnv(l: LinkEnvInput): string[] {
  const alias = (l.name.split('/').pop() ?? '').toUpperCase().replace(/-/g, '_');
  const ports: Port[] = Object.keys(l.exposedPorts ?? {})
    .map((k) => normalizePortKey(k).split('/'))
    .map(([n, proto]) => ({ num: Number(n), proto }))
    .filter((p) => Number.isInteger(p.num))
    .sort(byTcpThenNumber);
  const env: string[] = [];
  const url = (p: Port) => `${p.proto}://${l.childIp}:${p.num}`;
  let start: Port | undefined;
  let end: Port | undefined;
  ports.forEach((p, i) => {
    if (i === 0) {
      start = end = p;
      env.push(`${alias}_PORT=${url(p)}`);
    }
    const prefix = `${alias}_PORT_${p.num}_${p.proto.toUpperCase()}`;
    env.push(`${prefix}=${url(p)}`, `${prefix}_ADDR=${l.childIp}`, `${prefix}_PORT=${p.num}`, `${prefix}_PROTO=${p.proto}`);
    if (p.num === end!.num + 1 && p.proto === end!.proto) {
      end = p;
      if (i < ports.length - 1) return;
    }
    if (end !== start) {
      const rangePrefix = `${alias}_PORT_${start!.num}_${start!.proto.toUpperCase()}`;
      env.push(`${rangePrefix}_START=${url(start!)}`, `${rangePrefix}_PORT_START=${start!.num}`, `${rangePrefix}_END=${url(end!)}`, `${rangePrefix}_PORT_END=${end!.num}`);
    }
    start = end = p;
  });
  env.push(`${alias}_NAME=${l.name}`);
  for (const v of l.childEnv) {
    const i = v.indexOf('=');
    if (i < 0) continue;
    const key = v.slice(0, i);
    // Variables every image has are left out (dockerd's rule).
    if (key === 'HOME' || key === 'PATH') continue;
    env.push(`${alias}_ENV_${key}=${v.slice(i + 1)}`);
  }
  return env;
}

/**
 * DNS records for `--link name:alias` on a user-defined network: the alias answers, for the
 * linking container's address only, whatever `name` answers on that network.
 */
export function linkAliasRecords(records: readonly DnsRecord[], linking: ReadonlyArray<{ client: string; links: readonly string[] }>): DnsRecord[] {
  const out: DnsRecord[] = [];
  for (const { client, links } of linking) {
    for (const link of links) {
      let parsed: { ref: string; alias: string };
      try {
        parsed = parseLink(link);
      } catch {
        continue;
      }
      const target = parsed.ref.toLowerCase();
      for (const r of records) {
        if (r.names.some((n) => n.toLowerCase() === target)) out.push({ names: [parsed.alias], ip: r.ip, ...(r.ip6 ? { ip6: r.ip6 } : {}), client });
      }
    }
  }
  return out;
}
