/**
 * Go-style byte sizes as docker/go-units parses them (`64m`, `1.5GB`, `10k`): the one parser for
 * option values such as a volume's `size` and a log's `max-size` / `max-buffer-size`.
 * `<number>[kmgtp][i][b]`, case-insensitive, one optional space before the unit.
 */

const SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;

function parseSize(text: string, base: number): number | undefined {
  const m = SIZE.exec(text);
  if (!m) return undefined;
  const unit = ' kmgtp'.indexOf((m[2] ?? ' ').toLowerCase());
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  return Math.floor(n * base ** unit);
}

/** go-units FromHumanSize: decimal multiples (`10m` is 10,000,000 bytes). Undefined when malformed. */
export function fromHumanSize(text: string): number | undefined {
  return parseSize(text, 1000);
}

/** go-units RAMInBytes: binary multiples (`64m` is 64 MiB). Undefined when malformed. */
export function ramInBytes(text: string): number | undefined {
  return parseSize(text, 1024);
}
