/** `KEY=value` environment entries, as containers, images and exec sessions carry them. */

/** The variable's name (`PATH` of `PATH=/bin`; the whole entry when it has no `=`). */
export const envKey = (e: string) => e.split('=', 1)[0];

/** `base` with each entry of `over` replacing the one of the same name in place, or appended (dockerd's merge). */
export function mergeEnv(base: string[] = [], over: string[] = []): string[] {
  const out = [...base];
  for (const e of over) {
    const i = out.findIndex((x) => envKey(x) === envKey(e));
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** The entries as a name → value map, as `$NAME` expands them (a later entry wins; no `=` means ''). */
export function envObject(env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const eq = e.indexOf('=');
    out[eq < 0 ? e : e.slice(0, eq)] = eq < 0 ? '' : e.slice(eq + 1);
  }
  return out;
}
