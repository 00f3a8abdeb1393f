/**
 * A process (the container's `process`, or an exec's process.json) as plan records: arguments,
 * environment, user and groups, capability masks, rlimits, terminal, no_new_privs and the OOM
 * score. HOME is filled in from the container's /etc/passwd when the process has none and the
 * rootfs is known, as runc does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CAPABILITIES } from '../capabilities';
import { RLIMITS, UNLIMITED } from './linux-constants';
import { PlanError } from './plan-error';
import type { PlanWriter } from './plan-format';
import type { OciProcessSpec } from './spec-types';

export const DEFAULT_UMASK = 0o022;

export interface ProcessContext {
  /** The container's root filesystem on the host, for HOME from its /etc/passwd. */
  rootfs?: string;
}

/** A capability list as a mask (bit N = capability N); unknown names are refused. */
export function capabilityMask(names: readonly string[] = []): bigint {
  let mask = 0n;
  for (const name of names) {
    const n = ALL_CAPABILITIES.indexOf(name.toUpperCase());
    if (n < 0) throw new PlanError(`unknown capability ${JSON.stringify(name)}`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

/** An rlimit value as the plan writes it: negative or beyond 2^63 (JSON cannot spell 2^64-1 exactly) is unlimited. */
export function rlimitValue(v: number): bigint {
  if (!Number.isFinite(v) || v < 0 || v >= 2 ** 63) return UNLIMITED;
  return BigInt(Math.trunc(v));
}

export function rlimitNumber(type: string): number {
  const n = RLIMITS.indexOf(type.toUpperCase());
  if (n < 0) throw new PlanError(`unknown rlimit type ${JSON.stringify(type)}`);
  return n;
}

/** The home directory of `uid` in the container's /etc/passwd; `/` when none is found (runc's default). */
export function homeOf(rootfs: string, uid: number): string {
  let passwd = '';
  try {
    passwd = readFileSync(join(rootfs, 'etc/passwd'), 'utf8');
  } catch {
    return '/';
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 6 && Number(f[2]) === uid && f[2] !== '') return f[5] || '/';
  }
  return '/';
}

export function writeProcessRecords(w: PlanWriter, p: OciProcessSpec, ctx: ProcessContext = {}): void {
  if (p.commandLine) throw new PlanError('process.commandLine is for Windows; the berth runtime needs process.args');
  if (!p.args?.length) throw new PlanError('process.args must not be empty');
  if (p.apparmorProfile && p.apparmorProfile !== 'unconfined') throw new PlanError(`AppArmor profile ${JSON.stringify(p.apparmorProfile)}: the berth runtime does not apply AppArmor profiles`);
  if (p.selinuxLabel) throw new PlanError('the berth runtime does not apply SELinux labels (process.selinuxLabel)');
  if (p.ioPriority) throw new PlanError('the berth runtime does not set process.ioPriority');
  if (p.scheduler) throw new PlanError('the berth runtime does not set process.scheduler');

  w.add('terminal', p.terminal ? 1 : 0);
  if (p.terminal && p.consoleSize) w.add('console-size', p.consoleSize.height, p.consoleSize.width);
  for (const a of p.args) w.add('arg', a);
  const uid = p.user?.uid ?? 0;
  const env = [...(p.env ?? [])];
  if (ctx.rootfs !== undefined && !env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${homeOf(ctx.rootfs, uid)}`);
  for (const e of env) w.add('env', e);
  w.add('cwd', p.cwd || '/');
  w.add('user', uid, p.user?.gid ?? 0, p.user?.umask ?? DEFAULT_UMASK);
  for (const g of p.user?.additionalGids ?? []) w.add('additional-gid', g);
  const c = p.capabilities;
  if (c) {
    w.add('caps', capabilityMask(c.bounding), capabilityMask(c.effective), capabilityMask(c.inheritable), capabilityMask(c.permitted), capabilityMask(c.ambient));
  }
  const seen = new Set<number>();
  for (const r of p.rlimits ?? []) {
    const n = rlimitNumber(r.type);
    if (seen.has(n)) throw new PlanError(`rlimit ${r.type} is set twice`);
    seen.add(n);
    w.add('rlimit', n, rlimitValue(r.soft), rlimitValue(r.hard));
  }
  w.add('no-new-privileges', p.noNewPrivileges ? 1 : 0);
  if (p.oomScoreAdj !== undefined) w.add('oom-score-adj', p.oomScoreAdj);
}
