/**
 * The one adapter for the programs layer extraction needs and Node lacks: `mknod` (device nodes,
 * fifos, overlayfs whiteouts) and `setfattr`/`getfattr` (extended attributes, the overlayfs opaque flag,
 * from Debian's `attr` package). Arguments are built from typed options and run through
 * command.ts (no shell); a failure is an ExternalCommandError (a missing program: UnavailableError).
 */
import { UnavailableError } from '../errors';
import { ExternalCommandError, runCommand } from './command';

export type NodeKind =
  | { type: 'char'; major: number; minor: number }
  | { type: 'block'; major: number; minor: number }
  | { type: 'fifo' };

export interface FsToolsOptions {
  mknodPath?: string;
  setfattrPath?: string;
  getfattrPath?: string;
}

export class FsTools {
  private readonly mknodPath: string;
  private readonly setfattrPath: string;
  private readonly getfattrPath: string;

  constructor(opts: FsToolsOptions = {}) {
    this.mknodPath = opts.mknodPath ?? 'mknod';
    this.setfattrPath = opts.setfattrPath ?? 'setfattr';
    this.getfattrPath = opts.getfattrPath ?? 'getfattr';
  }

  /** Creates a device node or fifo at `path` (which must not exist). */
  async mknod(path: string, kind: NodeKind): Promise<void> {
    await this.run(this.mknodPath, mknodArgs(path, kind), 'coreutils');
  }

  /** An overlayfs whiteout: a character device 0:0. */
  async whiteout(path: string): Promise<void> {
    await this.mknod(path, { type: 'char', major: 0, minor: 0 });
  }

  /** Sets one extended attribute; never follows a symlink at `path`. */
  async setXattr(path: string, name: string, value: Buffer): Promise<void> {
    await this.run(this.setfattrPath, setfattrArgs(path, name, value), 'attr');
  }

  /** Reads one extended attribute without following a symlink; undefined when it is not set. */
  async getXattr(path: string, name: string): Promise<Buffer | undefined> {
    try {
      // --only-values prints the raw value (text attributes such as the overlay flags).
      return Buffer.from(await this.run(this.getfattrPath, ['-h', '--absolute-names', '--only-values', '-n', name, '--', path], 'attr'));
    } catch (err) {
      if (err instanceof ExternalCommandError && err.exitCode !== null) return undefined;
      throw err;
    }
  }

  private async run(program: string, argv: string[], debianPackage: string): Promise<string> {
    try {
      return (await runCommand(program, argv)).stdout;
    } catch (err) {
      const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
      if (cause?.code === 'ENOENT') {
        throw new UnavailableError(`${program} not found: install Debian's ${debianPackage} package`, { cause: err });
      }
      throw err;
    }
  }
}

function mknodArgs(path: string, kind: NodeKind): string[] {
  switch (kind.type) {
    case 'char':
      return ['--', path, 'c', String(kind.major), String(kind.minor)];
    case 'block':
      return ['--', path, 'b', String(kind.major), String(kind.minor)];
    case 'fifo':
      return ['--', path, 'p'];
  }
}

function setfattrArgs(path: string, name: string, value: Buffer): string[] {
  // Values are passed hex-encoded so binary attributes (security.capability) survive argv.
  const args = ['-h', '-n', name];
  if (value.length > 0) args.push('-v', `0x${value.toString('hex')}`);
  return [...args, '--', path];
}
