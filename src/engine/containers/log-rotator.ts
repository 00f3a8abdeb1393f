/**
 * `--log-opt max-size/max-file`: watches the logs of running containers and rotates one that
 * reached max-size: `<log>.1` … shift up (the oldest beyond max-file goes), the live file becomes
 * `<log>.1`, and the monitor is told to reopen its log (it then starts an empty file). The check
 * runs every 250 ms, so a log can pass max-size by what a container writes in that time.
 */
import { rename, rm, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { LogSettings } from './log-config';

const CHECK_MS = 250;

export interface RotatedLog {
  path: string;
  settings: LogSettings;
  /** Asks the monitor to reopen its log file. */
  reopen(): Promise<void>;
}

export class LogRotator {
  private readonly logs = new Map<string, RotatedLog>();
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(private readonly log: Logger) {}

  watch(id: string, entry: RotatedLog): void {
    if (entry.settings.driver !== 'json-file' || entry.settings.maxSize === undefined) return;
    this.logs.set(id, entry);
    this.timer ??= setInterval(() => void this.check(), CHECK_MS);
  }

  unwatch(id: string): void {
    this.logs.delete(id);
    if (this.logs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    this.logs.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const [id, entry] of this.logs) {
        const size = (await stat(entry.path).catch(() => undefined))?.size ?? 0;
        if (size < (entry.settings.maxSize ?? Infinity)) continue;
        await rotate(entry).catch((err) => this.log.warn({ err, container: id }, 'log rotation failed'));
      }
    } finally {
      this.busy = false;
    }
  }
}

async function rotate(entry: RotatedLog): Promise<void> {
  const { path, settings } = entry;
  const keep = settings.maxFile - 1; // rotated files kept beside the live one
  if (keep === 0) {
    await rename(path, `${path}.1`);
    await entry.reopen();
    await rm(`${path}.1`, { force: true });
    return;
  }
  await rm(`${path}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
  await rename(path, `${path}.1`);
  await entry.reopen();
}
