import { InvalidParameterError } from '../errors';

/** The API versions Berth serves. Defined once; everything else reads these. */
export const MIN_API_VERSION = '1.24';
/** Not higher: 1.52 drops fields docker-compose v1 reads, and compose sends what /version reports. */
export const MAX_API_VERSION = '1.51';

/** Numeric comparison of `1.41` style versions: <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const pa = parsed(a);
  const pb = parsed(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Parsed versions, remembered: every response shaping compares the same few strings. */
const parsedVersions = new Map<string, number[]>();
function parsed(v: string): number[] {
  let p = parsedVersions.get(v);
  if (!p) {
    p = v.split('.').map(Number);
    if (parsedVersions.size < 256) parsedVersions.set(v, p); // bounded: clients choose the strings
  }
  return p;
}

export const versionAtLeast = (v: string, min: string) => compareVersions(v, min) >= 0;

const PREFIX = /^\/v([0-9][0-9.]*)(?=\/|$|\?)/;

/** Splits `/v1.50/containers/json?x` into the version and the unversioned URL. */
export function splitVersion(url: string): { version?: string; url: string } {
  const m = PREFIX.exec(url);
  if (!m) return { url };
  return { version: m[1], url: url.slice(m[0].length) || '/' };
}

/** dockerd's errors for versions outside the served range. */
export function checkVersion(version: string): void {
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new InvalidParameterError(
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  if (compareVersions(version, MAX_API_VERSION) > 0) {
    throw new InvalidParameterError(`client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  }
}
