/**
 * The integration tests' only ways to wait: for a condition, a container state, a log line, an
 * event, a listening port or a process to end. Tests never sleep to let something happen; they
 * wait for the thing itself, and a timeout fails the test with what was awaited and what was
 * last seen. `holdsFor` is the one time window, and it is an assertion (something must NOT
 * happen), not a wait.
 */
import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import type { Berth } from './harness';

export interface WaitOptions {
  /** What is awaited, for the failure message. */
  what: string;
  /** Milliseconds before giving up (default 30 s: several test files run at once on 2 cores). */
  timeout?: number;
  /** Milliseconds between probes (default 50). */
  interval?: number;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `probe` until it returns a truthy value and resolves with that value. A probe that throws
 * counts as "not yet"; its last error is in the timeout's message.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeout ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${opts.timeout ?? 30_000} ms waiting for ${opts.what} (last seen: ${seen})`);
    }
    await pause(opts.interval ?? 50);
  }
}

/**
 * Asserts that `check` stays true for `duration` ms (checked every `interval` ms). For negative
 * claims ("no third restart") no event can say that nothing more will happen, so a window it is.
 */
export async function holdsFor(check: () => boolean | Promise<boolean>, opts: { what: string; duration: number; interval?: number }): Promise<void> {
  const end = Date.now() + opts.duration;
  do {
    if (!(await check())) throw new Error(`${opts.what}: stopped holding within ${opts.duration} ms`);
    await pause(opts.interval ?? 50);
  } while (Date.now() < end);
  if (!(await check())) throw new Error(`${opts.what}: stopped holding within ${opts.duration} ms`);
}

/** `docker inspect` of one container, with RestartCount folded into its State. */
export function containerState(berth: Berth, name: string): ContainerState {
  const c = JSON.parse(berth.ok(['inspect', name]))[0];
  return { ...c.State, RestartCount: c.RestartCount };
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  ExitCode: number;
  Pid: number;
  RestartCount: number;
  Health?: { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string }[] };
  [key: string]: unknown;
}

/** Waits until the container's state satisfies `check`; resolves with that state. */
export function waitForState(berth: Berth, name: string, check: (s: ContainerState) => boolean, opts: Partial<WaitOptions> = {}): Promise<ContainerState> {
  return waitFor(
    () => {
      const s = containerState(berth, name);
      return check(s) ? s : undefined;
    },
    { what: `the state of ${name}`, ...opts },
  );
}

/** Waits until `docker logs` of the container (stdout and stderr) contains `text`; resolves with the output. */
export function waitForLog(berth: Berth, name: string, text: string | RegExp, opts: Partial<WaitOptions> = {}): Promise<string> {
  return waitFor(
    () => {
      const r = berth.docker(['logs', name]);
      const out = r.stdout + r.stderr;
      return (typeof text === 'string' ? out.includes(text) : text.test(out)) ? out : undefined;
    },
    { what: `${String(text)} in the logs of ${name}`, ...opts },
  );
}

export interface DaemonEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
  [key: string]: unknown;
}

/**
 * Waits until the daemon's event history since `since` (unix seconds, as `docker events --since`)
 * holds at least `count` events matching `filters` (`docker events --filter` syntax); resolves
 * with all of them.
 */
export function waitForEvents(berth: Berth, since: string, filters: string[], opts: Partial<WaitOptions> & { count?: number } = {}): Promise<DaemonEvent[]> {
  const count = opts.count ?? 1;
  return waitFor(
    () => {
      const until = (Date.now() / 1000).toFixed(9);
      const out = berth.ok(['events', '--since', since, '--until', until, '--format', '{{json .}}', ...filters.flatMap((f) => ['--filter', f])]);
      const events = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as DaemonEvent);
      return events.length >= count ? events : undefined;
    },
    { what: `${count} event(s) matching ${filters.join(' ')}`, ...opts },
  );
}

/** Waits until a process inside the container listens on TCP `port` (busybox netstat). */
export function waitForListening(berth: Berth, name: string, port: number, opts: Partial<WaitOptions> = {}): Promise<unknown> {
  return waitFor(() => new RegExp(`:${port}\\s`).test(berth.ok(['exec', name, 'netstat', '-ltn'])), { what: `${name} listening on ${port}`, ...opts });
}

/** Waits until host process `pid` is gone. */
export function waitForProcessGone(pid: number, opts: Partial<WaitOptions> = {}): Promise<unknown> {
  return waitFor(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { what: `process ${pid} to end`, ...opts },
  );
}

/**
 * Waits until the container's monitor has written its exit file (what the daemon reads at start
 * for an exit it did not see), for exits that happen while the daemon is down.
 */
export function waitForExitFile(berth: Berth, id: string, opts: Partial<WaitOptions> = {}): Promise<unknown> {
  const file = join(berth.dataRoot, 'containers', id, 'exit', id);
  return waitFor(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', { what: `the exit file of ${id.slice(0, 12)}`, ...opts });
}

/** One HTTP GET; rejects on a connection error, a timeout or a non-2xx status. */
export function httpGet(url: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/** Waits until `url` answers a GET with a 2xx; resolves with the body. */
export function waitForHttp(url: string, opts: Partial<WaitOptions> = {}): Promise<string> {
  return waitFor(() => httpGet(url), { what: `${url} to answer`, interval: 100, ...opts });
}
