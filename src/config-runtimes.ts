/**
 * The runtime part of the daemon configuration: `--add-runtime name=path` flags and daemon.json
 * `runtimes`, checked and merged with dockerd's rules and words (moby's opts/runtime.go and
 * daemon/runtime_unix.go), so a configuration dockerd refuses is refused here too. Berth drives
 * every runtime through the OCI command line, so containerd shim v2 entries (`runtimeType`,
 * `options`), which dockerd hands to containerd, are refused with a reason instead of ignored.
 */

/** A runc-compatible runtime: its binary and the global arguments put before every call. */
export interface RuntimeConfigEntry {
  path: string;
  runtimeArgs?: string[];
}

/** The one runtime name dockerd reserves for its stock runtime, refused in flags and file alike. */
export const RESERVED_RUNTIME_NAME = 'runc';

/**
 * Parses repeated `--add-runtime` values like dockerd: split at the first `=`, both sides trimmed
 * and non-empty, the name lower-cased, `runc` reserved, each name once.
 * Throws an Error carrying dockerd's message.
 */
export function parseAddRuntimeFlags(values: readonly string[]): Record<string, RuntimeConfigEntry> {
  const out: Record<string, RuntimeConfigEntry> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const name = eq < 0 ? '' : value.slice(0, eq).trim().toLowerCase();
    const path = eq < 0 ? '' : value.slice(eq + 1).trim();
    const fail = (why: string) => new Error(`invalid argument "${value}" for "--add-runtime" flag: ${why}`);
    if (!name || !path) throw fail(`invalid runtime argument: ${value}`);
    if (name === RESERVED_RUNTIME_NAME) throw fail(`runtime name '${RESERVED_RUNTIME_NAME}' is reserved`);
    if (Object.hasOwn(out, name)) throw fail(`runtime '${name}' was already defined`);
    out[name] = { path };
  }
  return out;
}

/**
 * Checks daemon.json `runtimes` (any JSON value) and returns the runc-compatible entries.
 * Names keep their case (dockerd lower-cases flag names only).
 */
export function parseFileRuntimes(value: unknown): Record<string, RuntimeConfigEntry> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`invalid runtimes: expected an object of name: {"path": ..., "runtimeArgs": [...]}`);
  const out: Record<string, RuntimeConfigEntry> = {};
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    if (name === RESERVED_RUNTIME_NAME) throw new Error(`runtime name '${RESERVED_RUNTIME_NAME}' is reserved`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`runtime ${name}: expected an object with "path" and optional "runtimeArgs"`);
    const rt = raw as Record<string, unknown>;
    const path = optionalString(rt.path, name, 'path');
    const type = optionalString(rt.runtimeType, name, 'runtimeType');
    const args = rt.runtimeArgs ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new Error(`runtime ${name}: "runtimeArgs" must be a list of strings`);
    const options = rt.options ?? {};
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new Error(`runtime ${name}: "options" must be an object`);
    const hasOptions = Object.keys(options).length > 0;
    // dockerd's checks, in dockerd's order and with its words.
    if (!path && !type) throw new Error(`runtime ${name}: either a runtimeType or a path must be configured`);
    if (path) {
      if (type) throw new Error(`runtime ${name}: cannot configure both path and runtimeType for the same runtime`);
      if (hasOptions) throw new Error(`runtime ${name}: options cannot be used with a path runtime`);
      out[name] = args.length ? { path, runtimeArgs: [...args] } : { path };
      continue;
    }
    if (args.length) throw new Error(`runtime ${name}: args cannot be used with a runtimeType runtime`);
    throw new Error(
      `runtime ${name}: runtimeType "${type}" is a containerd shim v2 runtime, which Berth cannot run: ` +
        'Berth drives runtimes through their OCI command line (runc, crun, runsc, ...); configure its binary with "path" instead',
    );
  }
  return out;
}

/**
 * dockerd merges the two sources (daemon.json `runtimes` is exempt from its flag/file conflict
 * check); on a name given in both, the file's entry is kept.
 */
export function mergeRuntimes(fromFile: Record<string, RuntimeConfigEntry>, fromFlags: Record<string, RuntimeConfigEntry>): Record<string, RuntimeConfigEntry> {
  return { ...fromFlags, ...fromFile };
}

function optionalString(v: unknown, name: string, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`runtime ${name}: "${field}" must be a string`);
  return v;
}
