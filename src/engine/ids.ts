/**
 * Object IDs as dockerd makes and shows them (`[moby] pkg/stringid`): random 64-hex IDs for
 * containers, networks and exec instances, and the 12-character short form of any ID or digest.
 */
import { randomBytes } from 'node:crypto';

/** 64 hex characters; never all-digit in the short form, so short IDs are not mistaken for numbers. */
export function generateId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d{12}$/.test(id.slice(0, 12))) return id;
  }
}

/** dockerd's `stringid.TruncateID`: drop the algorithm (`sha256:`), keep 12 characters. */
export function shortId(id: string): string {
  const colon = id.indexOf(':');
  const bare = colon >= 0 ? id.slice(colon + 1) : id;
  return bare.slice(0, 12);
}
