/**
 * Detach keys (`--detach-keys`, default ctrl-p,ctrl-q): a key sequence in an attached client's
 * input that ends the attach and leaves the container running (`[moby] pkg/term` ToBytes).
 */
import { InvalidParameterError } from '../../errors';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** `ctrl-p,ctrl-q` → [0x10, 0x11]; `a` → [0x61]. 400 with dockerd's message otherwise. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) {
      out.push(k.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(k);
    if (!m) throw new InvalidParameterError(`Invalid detach keys (${spec}) provided`);
    const c = m[1];
    if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
    else if (c === '@') out.push(0);
    else if ('[\\]^_'.includes(c)) out.push(27 + '[\\]^_'.indexOf(c));
    else throw new InvalidParameterError(`Invalid detach keys (${spec}) provided`);
  }
  if (out.length === 0) throw new InvalidParameterError(`Invalid detach keys (${spec}) provided`);
  return Buffer.from(out);
}

/**
 * Watches input for the sequence: bytes that cannot start it pass on at once, a possible start
 * is held until it matches (detach) or does not (passed on after all).
 */
export class DetachScanner {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  /** What to forward from `chunk`, and whether the sequence completed. */
  feed(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      // The held bytes were not the sequence after all.
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]);
      this.held = byte === this.keys[0] ? 1 : 0;
      if (this.held === 0) out.push(byte);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}
