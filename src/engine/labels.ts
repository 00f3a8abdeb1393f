/**
 * Docker's label filter (`filters.Args.MatchKVList`): every `key` or `key=value` must be among
 * the labels. Shared by the container, network and volume filters.
 */
export function labelsMatch(values: readonly string[], labels: Record<string, string>): boolean {
  if (!values.length) return true;
  return values.every((v) => {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (!Object.prototype.hasOwnProperty.call(labels, key)) return false;
    return eq < 0 || labels[key] === v.slice(eq + 1);
  });
}
