/**
 * The resize stream of the remote command protocols (v3 on): client-go writes each terminal size
 * as a JSON object `{"Width":80,"Height":24}` (json.Encoder, one per line). This cuts the objects
 * out of the byte stream as they complete; anything malformed is skipped.
 */

export interface TerminalSize {
  width: number;
  height: number;
}

export class TerminalSizeDecoder {
  private pending = '';

  push(chunk: Buffer): TerminalSize[] {
    this.pending += chunk.toString('utf8');
    const sizes: TerminalSize[] = [];
    for (;;) {
      const start = this.pending.indexOf('{');
      if (start < 0) {
        this.pending = '';
        break;
      }
      const end = this.pending.indexOf('}', start);
      if (end < 0) {
        this.pending = this.pending.slice(start);
        break;
      }
      const text = this.pending.slice(start, end + 1);
      this.pending = this.pending.slice(end + 1);
      const size = parseSize(text);
      if (size) sizes.push(size);
    }
    // A client that never closes an object must not grow this without bound.
    if (this.pending.length > 4096) this.pending = '';
    return sizes;
  }
}

function parseSize(text: string): TerminalSize | undefined {
  try {
    const v = JSON.parse(text) as { Width?: unknown; Height?: unknown };
    const width = Number(v.Width ?? 0);
    const height = Number(v.Height ?? 0);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width > 0xffff || height > 0xffff) return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}
