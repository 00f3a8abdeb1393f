/**
 * CPU priorities of Berth's threads. On Linux a nice value belongs to a thread, and a process
 * forked from a thread starts with that thread's value. So the API thread can outrank the burst
 * of processes a container start runs (it answers clients; they can wait a few milliseconds),
 * the command thread and its helpers (runc state, CNI plugins, iptables) can yield, and what
 * becomes the container (conmon, the runtime, the container's processes) still starts at the
 * normal priority, as under dockerd.
 */
import { getPriority, setPriority } from 'node:os';

/** The API (main) thread. */
export const API_NICE = -5;
/** The command thread and the helper programs it runs. */
export const HELPER_NICE = 5;
/** Monitors, runtimes and containers. */
export const CONTAINER_NICE = 0;

/** Sets the calling thread's nice value; false when not permitted (raising needs CAP_SYS_NICE). */
export function setThreadPriority(nice: number): boolean {
  try {
    setPriority(nice); // pid 0: the calling thread (setpriority(2) on Linux)
    return true;
  } catch {
    return false;
  }
}

/** Runs `fork` (a synchronous spawn) at `nice`, then restores the calling thread's value. */
export function withPriority<T>(nice: number, fork: () => T): T {
  let before: number | undefined;
  try {
    before = getPriority(0);
  } catch {
    // unknown: leave the thread alone
  }
  if (before === undefined || before === nice || !setThreadPriority(nice)) return fork();
  try {
    return fork();
  } finally {
    setThreadPriority(before);
  }
}
