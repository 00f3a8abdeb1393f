/**
 * The live json-file log of a container and its rotation (`--log-opt max-size/max-file`), as
 * dockerd's `loggerutils.LogFile` does it: before an entry is written, a file that has reached
 * max-size is rotated (`<log>.1` … shift up, the oldest beyond max-file goes, the live file
 * becomes `<log>.1`) and a new live file is started.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

export interface RotationSettings {
  maxSize?: number;
  maxFile: number;
}

/** Where the live file stands: its inode and how many bytes it holds. */
export interface FilePosition {
  ino: number;
  size: number;
}

export class JsonLogFile {
  private fh?: FileHandle;
  private pos: FilePosition = { ino: 0, size: 0 };

  constructor(
    readonly path: string,
    private readonly settings: RotationSettings,
  ) {}

  get position(): FilePosition {
    return { ...this.pos };
  }

  /**
   * Opens the live file for appending. `committed` is the position last recorded as shipped:
   * bytes beyond it were written by a run that stopped before recording them, and are
   * dropped so that they are written once, again, from the monitor's log.
   */
  async open(committed?: FilePosition): Promise<void> {
    this.fh = await open(this.path, 'a+', 0o640);
    const st = await this.fh.stat();
    if (committed && committed.ino === st.ino && st.size > committed.size) await this.fh.truncate(committed.size);
    this.pos = { ino: st.ino, size: Math.min(st.size, committed && committed.ino === st.ino ? committed.size : st.size) };
  }

  /** True when, with `pending` more bytes written, the next entry must go to a new file. */
  fullWith(pending: number): boolean {
    return this.settings.maxSize !== undefined && this.pos.size + pending >= this.settings.maxSize;
  }

  async append(data: Buffer): Promise<void> {
    if (!this.fh) await this.open();
    await this.fh!.write(data);
    this.pos.size += data.length;
  }

  async rotate(): Promise<void> {
    await this.close();
    const keep = this.settings.maxFile - 1; // rotated files kept beside the live one
    if (keep === 0) {
      await rm(this.path, { force: true });
    } else {
      await rm(`${this.path}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => undefined);
      await rename(this.path, `${this.path}.1`);
    }
    await this.open();
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
