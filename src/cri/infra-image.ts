/**
 * The pods' infra image, made by Berth itself so that no registry is needed: one layer holding
 * the static `/pause` (src/host/native/pause.c), entrypoint `/pause`, tagged
 * `berth.local/pause:<berth version>`. It is imported into the one image store the first time a
 * pod needs it; `--pod-infra-image` names another image instead (then it must be present or
 * pullable, as with containerd's sandbox_image).
 */
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { pack } from 'tar-stream';
import { NotFoundError } from '../errors';
import type { ImageService } from '../engine/images/image-service';
import { PAUSE_BINARY } from '../host/pause-binary';

const INFRA_REPO = 'berth.local/pause';

export interface InfraImageOptions {
  images: ImageService;
  version: string;
  /** `--pod-infra-image`. */
  configured?: string;
}

/** The infra image's reference: `--pod-infra-image`, else Berth's own of this version. */
export function infraImageRef(opts: Pick<InfraImageOptions, 'version' | 'configured'>): string {
  return opts.configured ?? `${INFRA_REPO}:${opts.version}`;
}

/** A function answering the infra image's reference, making Berth's own once when needed. */
export function infraImage(opts: InfraImageOptions): () => Promise<string> {
  let making: Promise<string> | undefined;
  return async () => {
    const ref = infraImageRef(opts);
    if (await present(opts.images, ref)) return ref;
    if (opts.configured) {
      await opts.images.transfers.pull(ref, { progress: () => undefined });
      return ref;
    }
    making ??= importOwn(opts.images, opts.version).finally(() => (making = undefined));
    return making;
  };
}

async function present(images: ImageService, ref: string): Promise<boolean> {
  try {
    await images.records.resolve(ref);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

async function importOwn(images: ImageService, version: string): Promise<string> {
  const binary = await readFile(PAUSE_BINARY);
  const tar = pack();
  // A fixed date: the same Berth makes the same layer, byte for byte.
  tar.entry({ name: 'pause', mode: 0o755, uid: 0, gid: 0, mtime: new Date(0) }, binary);
  tar.finalize();
  const input = tar.pipe(new PassThrough());
  await images.archives.importImage(input, { repo: INFRA_REPO, tag: version, changes: ['ENTRYPOINT ["/pause"]'], message: 'Berth pod infra image' });
  return infraImageRef({ version });
}
