/**
 * Healthchecks (`[moby] daemon/health.go`): while a container with a healthcheck runs, its
 * probe runs every Interval (every StartInterval during StartPeriod) as an exec; the last five
 * results are kept in State.Health.Log; Retries failures in a row make it `unhealthy`, one
 * success `healthy`; failures during the start period do not count until it was healthy once.
 * Each change of status is a `health_status: <status>` event.
 */
import type { Logger } from 'pino';
import type { ContainerRecords } from '../container-records';
import type { ContainerRecord, HealthState } from '../types';

const NS_PER_MS = 1e6;
const DEFAULTS = { interval: 30_000, timeout: 30_000, startPeriod: 0, startInterval: 5_000, retries: 3 };
const LOG_ENTRIES = 5;

export interface Healthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ProbeSettings {
  cmd: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

/** The probe of a container config, or undefined when it has none (or `NONE`). Times in ms. */
export function probeSettings(hc: Healthcheck | undefined): ProbeSettings | undefined {
  const test = hc?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  let cmd: string[];
  if (test[0] === 'CMD') cmd = test.slice(1);
  else if (test[0] === 'CMD-SHELL') cmd = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else return undefined;
  if (cmd.length === 0) return undefined;
  const ms = (ns: number | undefined, dflt: number) => (ns && ns > 0 ? ns / NS_PER_MS : dflt);
  return {
    cmd,
    interval: ms(hc?.Interval, DEFAULTS.interval),
    timeout: ms(hc?.Timeout, DEFAULTS.timeout),
    startPeriod: ms(hc?.StartPeriod, DEFAULTS.startPeriod),
    startInterval: ms(hc?.StartInterval, DEFAULTS.startInterval),
    retries: hc?.Retries && hc.Retries > 0 ? hc.Retries : DEFAULTS.retries,
  };
}

export interface HealthHost {
  records: Pick<ContainerRecords, 'find' | 'save' | 'emit'>;
  probe(containerId: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut: boolean }>;
  log: Logger;
}

export class HealthMonitors {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly host: HealthHost) {}

  /** A container started: its health starts over at `starting`. */
  start(c: ContainerRecord): void {
    const settings = probeSettings(c.config.Healthcheck as Healthcheck | undefined);
    this.stop(c.id);
    if (!settings) return;
    c.state.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    this.schedule(c.id, settings, Date.now());
  }

  /** After a daemon restart: probing goes on from the recorded state. */
  resume(c: ContainerRecord): void {
    const settings = probeSettings(c.config.Healthcheck as Healthcheck | undefined);
    if (!settings) return;
    c.state.Health ??= { Status: 'starting', FailingStreak: 0, Log: [] };
    this.schedule(c.id, settings, Date.parse(c.state.StartedAt));
  }

  stop(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(id: string, s: ProbeSettings, startedAt: number): void {
    const inStartPeriod = Date.now() - startedAt < s.startPeriod;
    const delay = inStartPeriod ? s.startInterval : s.interval;
    this.timers.set(
      id,
      setTimeout(() => void this.probe(id, s, startedAt), delay),
    );
  }

  private async probe(id: string, s: ProbeSettings, startedAt: number): Promise<void> {
    const c = this.host.records.find(id);
    if (!c?.state.Running || !c.state.Health) return;
    if (c.state.Paused) return this.schedule(id, s, startedAt);
    const start = new Date().toISOString();
    let result: { exitCode: number; output: string; timedOut: boolean };
    try {
      result = await this.host.probe(id, s.cmd, s.timeout);
    } catch (err) {
      result = { exitCode: -1, output: (err as Error).message, timedOut: false };
    }
    if (!this.timers.has(id) || !c.state.Running) return; // stopped meanwhile
    const health = c.state.Health;
    const output = result.timedOut ? `Health check exceeded timeout (${formatSeconds(s.timeout)})` : result.output;
    health.Log = [...health.Log, { Start: start, End: new Date().toISOString(), ExitCode: result.exitCode, Output: output }].slice(-LOG_ENTRIES);
    const before = health.Status;
    applyResult(health, result.exitCode === 0, s, Date.now() - startedAt < s.startPeriod);
    await this.host.records.save(c).catch((err) => this.host.log.warn({ err, container: id }, 'saving health failed'));
    if (health.Status !== before) this.host.records.emit(c, `health_status: ${health.Status}`);
    this.schedule(id, s, startedAt);
  }
}

/** One probe result on the state (dockerd's handleProbeResult). */
export function applyResult(h: HealthState, ok: boolean, s: Pick<ProbeSettings, 'retries'>, inStartPeriod: boolean): void {
  if (ok) {
    h.FailingStreak = 0;
    h.Status = 'healthy';
    return;
  }
  // Failures in the start period do not count, unless the container was already healthy.
  if (inStartPeriod && h.Status !== 'healthy') return;
  h.FailingStreak++;
  if (h.FailingStreak >= s.retries) h.Status = 'unhealthy';
}

/** Go's Duration.String() for whole and fractional seconds (`30s`, `1.5s`, `500ms`). */
function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(3))}s`;
}
