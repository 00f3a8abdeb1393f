/** CRI timestamps: nanoseconds since the epoch as an int64 (sent as a decimal string). */
export function isoToNanos(iso: string | undefined): string {
  if (!iso || iso.startsWith('0001-')) return '0';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '0';
  // Digits below the millisecond that the ISO string carries (up to nanoseconds).
  const frac = /\.(\d+)/.exec(iso)?.[1] ?? '';
  const subMs = BigInt((frac.slice(3) + '000000').slice(0, 6));
  return (BigInt(Math.floor(ms)) * 1_000_000n + subMs).toString();
}
