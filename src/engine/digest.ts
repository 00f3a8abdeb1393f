/** Content addressing helpers shared by the registry client and the image store: sha256 digests and chain IDs. */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export const SHA256_PREFIX = 'sha256:';

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: Buffer | string): string {
  return SHA256_PREFIX + sha256Hex(data);
}

/** The hex part of `sha256:<hex>`. */
export function hexOf(digest: string): string {
  return digest.startsWith(SHA256_PREFIX) ? digest.slice(SHA256_PREFIX.length) : digest;
}

/** True for `sha256:` followed by 64 lowercase hex digits. */
export function isSha256Digest(s: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(s);
}

/**
 * Chain IDs of a layer stack, bottom to top: chainID(L0) = diffID(L0),
 * chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)).
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? diffId : sha256Digest(`${parent} ${diffId}`));
  }
  return out;
}

/** A pass-through stream that hashes (sha256) and counts every byte it forwards. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  /** `sha256:<hex>` of everything forwarded; call once, after the stream has ended. */
  digest(): string {
    return SHA256_PREFIX + this.hash.digest('hex');
  }
}
