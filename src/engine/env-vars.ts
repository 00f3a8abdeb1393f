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
