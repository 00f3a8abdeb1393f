/**
 * Restart policies with dockerd's rules (`[moby] container/container.go` ShouldRestart,
 * `restartmanager/restartmanager.go`, `daemon/container.go` validation): `no`, `always`,
 * `unless-stopped`, `on-failure[:N]`; a container a user stopped is not restarted; restarts
 * back off from 100 ms, doubling up to a minute, back to 100 ms after a run of 10 s or more.
 */
import { InvalidParameterError } from '../../errors';
import type { RestartPolicy } from './types';

const NAMES = new Set(['', 'no', 'always', 'unless-stopped', 'on-failure']);
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const GOOD_RUN_MS = 10_000;

/** 400 for what dockerd refuses at create (and update). */
export function validateRestartPolicy(policy: RestartPolicy | undefined, autoRemove: boolean): void {
  if (!policy) return;
  const name = policy.Name ?? '';
  const max = policy.MaximumRetryCount ?? 0;
  if (!NAMES.has(name)) {
    throw new InvalidParameterError(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (max < 0) throw new InvalidParameterError('invalid restart policy: maximum retry count cannot be negative');
  if (max > 0 && name !== 'on-failure') throw new InvalidParameterError("invalid restart policy: maximum retry count can only be used with 'on-failure'");
  if (autoRemove && name !== '' && name !== 'no') throw new InvalidParameterError("can't create 'AutoRemove' container with restart policy");
}

export interface ExitFacts {
  exitCode: number;
  restartCount: number;
  manuallyStopped: boolean;
}

/** Whether an exited container is to be started again by its policy. */
export function shouldRestart(policy: RestartPolicy | undefined, facts: ExitFacts): boolean {
  if (facts.manuallyStopped) return false;
  switch (policy?.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure': {
      const max = policy.MaximumRetryCount ?? 0;
      return facts.exitCode !== 0 && (max === 0 || facts.restartCount < max);
    }
    default:
      return false;
  }
}

/** Whether a container that is not running starts when the daemon does. */
export function restartsOnBoot(policy: RestartPolicy | undefined, everStarted: boolean, manuallyStopped: boolean): boolean {
  if (!everStarted) return false;
  return policy?.Name === 'always' || (policy?.Name === 'unless-stopped' && !manuallyStopped);
}

/** The wait before the next restart, from the previous wait and how long the last run lasted. */
export function nextRestartDelay(previousMs: number | undefined, ranMs: number): number {
  if (previousMs === undefined || ranMs >= GOOD_RUN_MS) return FIRST_DELAY_MS;
  return Math.min(previousMs * 2, MAX_DELAY_MS);
}

/** Pending policy restarts and each container's current back-off. */
export class RestartTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly delays = new Map<string, number>();

  /** Runs `fn` after the container's next back-off delay; returns that delay. */
  schedule(id: string, ranMs: number, fn: () => void): number {
    const delay = nextRestartDelay(this.delays.get(id), ranMs);
    this.delays.set(id, delay);
    this.cancel(id);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        fn();
      }, delay),
    );
    return delay;
  }

  /** Drops a pending restart; true when there was one. */
  cancel(id: string): boolean {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    return this.timers.delete(id);
  }

  /** A user start or removal: back-off starts over. */
  reset(id: string): void {
    this.cancel(id);
    this.delays.delete(id);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
