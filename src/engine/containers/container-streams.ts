/** A container's streams for clients: `docker logs`, `docker attach` and the TTY's resize. */
import type { ContainerMonitor } from '../../runtime/types';
import { ConflictError, InvalidParameterError } from '../../errors';
import type { AttachHub } from './attach-hub';
import type { ContainerLifecycle } from './lifecycle';
import type { ContainerRecords } from './container-records';
import { parseDetachKeys } from './detach-keys';
import { logDetails } from './log-config';
import { readLogs } from './log-reader';
import type { LogShipper } from './log-shipper';
import { logDecoderOf, logFilesOf, logSource } from './log-target';
import type { AttachOptions, ContainerRecord, LogRecord, LogsOptions } from './types';

export interface ContainerStreamsDeps {
  records: ContainerRecords;
  /** For `docker logs -f`, which ends once the container stops. */
  lifecycle: Pick<ContainerLifecycle, 'wait'>;
  attachHub: AttachHub;
  logShipper: LogShipper;
  monitor: ContainerMonitor;
}

export class ContainerStreams {
  constructor(private readonly deps: ContainerStreamsDeps) {}

  logs(ref: string, opts: LogsOptions): { tty: boolean; batches: AsyncIterable<LogRecord[]>; details: string } {
    const { records } = this.deps;
    const c = records.get(ref);
    if (!opts.stdout && !opts.stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    const isDone = () => !records.find(c.id)?.state.Running;
    const details = logDetails(logSource(c));
    // Following ends as soon as the container stops, not at the next poll.
    const stopped = opts.follow ? this.deps.lifecycle.wait(c.id, 'not-running', opts.signal).catch(() => undefined) : undefined;
    return { tty: !!c.config.Tty, batches: this.shippedLogs(c, logFilesOf(c, records.dirs(c.id)), opts, isDone, stopped), details };
  }

  /** The driver's log as a reader sees it once what the monitor wrote so far is shipped. */
  private async *shippedLogs(c: ContainerRecord, files: string[], opts: LogsOptions, isDone: () => boolean, stopped?: Promise<unknown>): AsyncGenerator<LogRecord[]> {
    await this.deps.logShipper.catchUp(c.id);
    yield* readLogs(files, opts, isDone, stopped, logDecoderOf(c));
  }

  async attach(ref: string, opts: AttachOptions): Promise<void> {
    const { records, attachHub } = this.deps;
    const c = records.get(ref);
    if (opts.detachKeys) parseDetachKeys(opts.detachKeys);
    const tty = !!c.config.Tty;
    const streams = opts.getStreams(tty);
    if (opts.logs) {
      const files = logFilesOf(c, records.dirs(c.id));
      for await (const batch of this.shippedLogs(c, files, { stdout: opts.stdout, stderr: opts.stderr, follow: false, timestamps: false, since: 0, until: 0 }, () => true)) {
        for (const r of batch) streams.write(r.stream === 'stdout' || tty ? 1 : 2, Buffer.from(r.text));
      }
    }
    if (!opts.stream) {
      streams.end();
      return;
    }
    const client = attachHub.add(c.id, opts, streams, { tty, stdinOnce: !!c.config.StdinOnce, openStdin: !!c.config.OpenStdin });
    records.emit(c, 'attach');
    if (c.state.Running) await attachHub.connect(c.id, client, () => this.deps.monitor.attach(records.monitorPaths(c.id)));
  }

  /** The monitor starts a new log file at its log path (kubelet renamed the old one away). */
  async reopenLog(ref: string): Promise<void> {
    const c = this.deps.records.get(ref);
    if (!c.state.Running) throw new ConflictError('container is not running');
    await this.deps.monitor.reopenLog(this.deps.records.monitorPaths(c.id));
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.deps.records.get(ref);
    if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
    if (!c.config.Tty) return;
    await this.deps.monitor.resize(this.deps.records.monitorPaths(c.id), height, width);
    this.deps.records.emit(c, 'resize', { height: String(height), width: String(width) });
  }
}
