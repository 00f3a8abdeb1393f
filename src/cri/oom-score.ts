/**
 * The lowest oom_score_adj a container may be given here. Lowering a process's score below its
 * parent's needs CAP_SYS_RESOURCE; a daemon without it (a container, a restricted unit) would
 * see every start of a critical pod fail (kubelet asks -997 for them). containerd's CRI has the
 * same rule (`restrict_oom_score_adj`): clamp to the daemon's own score.
 */
import { readFileSync } from 'node:fs';

const CAP_SYS_RESOURCE = 24n;

/** undefined: no floor (the daemon may lower scores); else the daemon's own oom_score_adj. */
export function oomScoreFloor(read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number | undefined {
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(read('/proc/self/status'))?.[1];
    if (capEff && (BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) return undefined;
    const own = Number(read('/proc/self/oom_score_adj').trim());
    return Number.isInteger(own) ? own : undefined;
  } catch {
    return undefined;
  }
}

/** The score to ask for: the request, raised to the floor when it is lower. */
export function clampOomScoreAdj(requested: number, floor: number | undefined): number {
  return floor !== undefined && requested < floor ? floor : requested;
}
