import { readFileSync } from 'node:fs';
import { ALL_CAPABILITIES } from './oci-spec';

let cached: string[] | undefined;

/**
 * The capabilities this daemon can hand out (its bounding set, /proc/self/status CapBnd). A
 * privileged process gets these rather than every capability the kernel knows: root may lack
 * some (CAP_SYS_RESOURCE on some hosts), and asking for one it lacks fails in the runtime.
 */
export function hostCapabilities(): string[] {
  if (cached) return cached;
  const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const mask = line ? BigInt(`0x${line[1]}`) : (1n << BigInt(ALL_CAPABILITIES.length)) - 1n;
  cached = ALL_CAPABILITIES.filter((_c, i) => (mask >> BigInt(i)) & 1n);
  return cached;
}
