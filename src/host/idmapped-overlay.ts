/**
 * The adapter for berth-idmapped-overlay (native/idmapped-overlay.c, built beside this module's
 * compiled copy): a container's overlay root under a userns-remap id mapping, its image layers
 * seen through idmapped mounts so they are never copied or chowned per mapping. The upper and
 * work dirs hold host (shifted) ids: overlayfs refuses an idmapped upper and an idmapped overlay.
 * Also the probe a daemon runs at start: whether this kernel and filesystem can do it at all.
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExternalCommandError, runCommand } from './command';
import { unmount } from './mount';

/** `size` ids from `containerId` inside are the ids from `hostId` on the host. */
export interface HostIdRange {
  containerId: number;
  hostId: number;
  size: number;
}

/** The mapping as this layer takes it (the engine's IdMap has this shape). */
export interface HostIdMapping {
  uids: readonly HostIdRange[];
  gids: readonly HostIdRange[];
}

export interface IdmappedOverlaySpec {
  /** Image layer dirs, top-most first, holding container ids (shared by every mapping). */
  lowerDirs: readonly string[];
  upperDir: string;
  workDir: string;
  /** A dir the program may create and remove, for the short-lived layer mounts. */
  scratchDir: string;
}

export const IDMAPPED_OVERLAY_PATH = join(__dirname, 'berth-idmapped-overlay');

/** What is needed, for the message a user gets where it is missing. */
export const IDMAPPED_OVERLAY_FEATURE = 'idmapped mounts with overlayfs (Linux 5.19 or later, on a filesystem that supports idmapped mounts)';

/** The program's exit status when the kernel or the filesystem refuses an idmapped mount. */
const EXIT_UNSUPPORTED = 3;
const TIMEOUT_MS = 60_000;

/** The kernel or filesystem cannot mount idmapped layers under an overlay. */
export class IdmappedMountsUnsupportedError extends Error {
  constructor(readonly detail: string, options?: { cause?: unknown }) {
    super(`userns-remap needs ${IDMAPPED_OVERLAY_FEATURE}: ${detail}`, options);
    this.name = 'IdmappedMountsUnsupportedError';
  }
}

/** Mounts the overlay at `target` (which must exist) with idmapped lowers. */
export async function mountIdmappedOverlay(target: string, spec: IdmappedOverlaySpec, mapping: HostIdMapping): Promise<void> {
  const argv = [
    ...mapping.uids.flatMap((r) => ['--uid', rangeArg(r)]),
    ...mapping.gids.flatMap((r) => ['--gid', rangeArg(r)]),
    ...spec.lowerDirs.flatMap((d) => ['--lower', d]),
    '--upper', spec.upperDir, '--work', spec.workDir, '--scratch', spec.scratchDir, '--target', target,
  ];
  await runCommand(IDMAPPED_OVERLAY_PATH, argv, { timeoutMs: TIMEOUT_MS }).catch((err: unknown) => {
    if (!(err instanceof ExternalCommandError)) throw err;
    const text = err.stderr.trim().replace(/^berth-idmapped-overlay: /, '') || err.message;
    if (err.exitCode === EXIT_UNSUPPORTED) throw new IdmappedMountsUnsupportedError(text, { cause: err });
    throw new Error(`mounting the idmapped root filesystem at ${target}: ${text}`, { cause: err });
  });
}

const rangeArg = (r: HostIdRange) => `${r.containerId}:${r.hostId}:${r.size}`;

export type IdmappedOverlaySupport = { supported: true } | { supported: false; reason: string };

/**
 * Whether an overlay over an idmapped layer mounts in `dir` (use the data root: support depends
 * on its filesystem) and shows the layer's ids shifted. Leaves nothing behind.
 */
export async function probeIdmappedOverlay(dir: string): Promise<IdmappedOverlaySupport> {
  const base = join(dir, `idmap-probe-${randomBytes(4).toString('hex')}`);
  const p = { lower: join(base, 'lower'), upper: join(base, 'upper'), work: join(base, 'work'), merged: join(base, 'merged') };
  const mapping: HostIdMapping = { uids: [{ containerId: 0, hostId: 100_000, size: 1 }], gids: [{ containerId: 0, hostId: 100_000, size: 1 }] };
  try {
    await Promise.all(Object.values(p).map((d) => mkdir(d, { recursive: true })));
    await writeFile(join(p.lower, 'probe'), '');
    await chown(join(p.lower, 'probe'), 0, 0);
    await mountIdmappedOverlay(p.merged, { lowerDirs: [p.lower], upperDir: p.upper, workDir: p.work, scratchDir: join(base, 'scratch') }, mapping);
    try {
      const seen = await stat(join(p.merged, 'probe'));
      if (seen.uid !== 100_000 || seen.gid !== 100_000) return { supported: false, reason: `a layer file owned by 0:0 showed as ${seen.uid}:${seen.gid} instead of 100000:100000` };
      return { supported: true };
    } finally {
      await unmount(p.merged, { lazy: true });
    }
  } catch (err) {
    return { supported: false, reason: err instanceof IdmappedMountsUnsupportedError ? err.detail : (err as Error).message };
  } finally {
    await rm(base, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Throws IdmappedMountsUnsupportedError naming the kernel feature unless the probe succeeds. */
export async function assertIdmappedOverlaySupported(dir: string): Promise<void> {
  const r = await probeIdmappedOverlay(dir);
  if (!r.supported) throw new IdmappedMountsUnsupportedError(r.reason);
}
