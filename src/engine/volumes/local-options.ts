/**
 * What the local driver accepts, checked at create with dockerd's messages (moby
 * daemon/volume/local/local.go `validateName`, local_unix.go `validateOpts`). Errors are
 * prefixed with `create <name>: ` by the caller, as dockerd's OpErr does.
 */
import { ramInBytes } from '../byte-sizes';

const NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const VALID_NAME = new RegExp(`^${NAME_CHARS}+$`);

/** Option keys, and the keys each one needs (checked in this order). */
const VALID_OPTIONS = ['type', 'o', 'device', 'size'];
const REQUIRED_WITH: Array<[string, string[]]> = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

/** The problem with a local volume name, or undefined. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 1) return 'volume name is too short, names should be at least two alphanumeric characters';
  if (!VALID_NAME.test(name)) {
    return `${JSON.stringify(name)} includes invalid characters for a local volume name, only ${JSON.stringify(NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`;
  }
  return undefined;
}

/** The problem with local driver options, or undefined. Berth has no quota support (`size`). */
export function optionsProblem(opts: Record<string, string> | null | undefined): string | undefined {
  if (!opts || !Object.keys(opts).length) return undefined;
  for (const key of Object.keys(opts)) {
    if (!VALID_OPTIONS.includes(key)) return `invalid option: ${JSON.stringify(key)}`;
  }
  if (opts.size !== undefined) {
    const size = ramInBytes(opts.size);
    if (size === undefined) return `invalid size: '${opts.size}'`;
    if (size > 0) return 'quota size requested but no quota support';
  }
  for (const [key, needs] of REQUIRED_WITH) {
    if (!(key in opts)) continue;
    for (const need of needs) if (!(need in opts)) return `missing required option: ${JSON.stringify(need)}`;
  }
  return undefined;
}

/** `o=a,b,c` as a list. */
export const mountOptionsOf = (o: string | undefined): string[] => (o ?? '').split(',').filter(Boolean);
