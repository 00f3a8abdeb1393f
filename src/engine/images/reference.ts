/**
 * Image references, parsed and normalized the way dockerd does it (the grammar of
 * distribution/reference): `busybox` is `docker.io/library/busybox`, `foo/bar:1` is
 * `docker.io/foo/bar:1`, `localhost:5000/x` keeps its registry, and `name@sha256:<hex>` is a
 * digest ("canonical") reference. Pure functions; errors carry dockerd's wording.
 */
import { InvalidParameterError } from '../../errors';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

/** A named reference: `<domain>/<path>[:tag][@digest]`. */
export interface NamedReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

// The grammar, spelled as in distribution/reference's regexp.go.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_TAG_RE = new RegExp(`^${tagPat}$`);
const ANCHORED_DIGEST_RE = new RegExp(`^${digestPat}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

const invalid = (message: string) => new InvalidParameterError(message);

/** True for a bare 64-hex image identifier (no algorithm). */
export function isIdentifier(s: string): boolean {
  return IDENTIFIER_RE.test(s);
}

/**
 * Validates a digest like go-digest's `Parse`: returns it unchanged, or throws with go-digest's
 * messages ("invalid checksum digest format", "invalid checksum digest length",
 * "unsupported digest algorithm").
 */
export function parseDigest(s: string): string {
  const i = s.indexOf(':');
  if (i <= 0 || i + 1 === s.length) throw invalid('invalid checksum digest format');
  const algorithm = s.slice(0, i);
  const encoded = s.slice(i + 1);
  const length = DIGEST_LENGTHS[algorithm];
  if (length === undefined) {
    if (!ANCHORED_DIGEST_RE.test(s)) throw invalid('invalid checksum digest format');
    throw invalid('unsupported digest algorithm');
  }
  if (encoded.length !== length) throw invalid('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(encoded)) throw invalid('invalid checksum digest format');
  return s;
}

/** `parseDigest` without throwing. */
export function isValidDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** Parses an already-qualified reference string (distribution/reference `Parse`). */
export function parseReference(s: string): NamedReference {
  if (s === '') throw invalid('repository name must have at least one component');
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) throw invalid('repository name must be lowercase');
    throw invalid('invalid reference format');
  }
  const nameMatch = ANCHORED_NAME_RE.exec(m[1]);
  const domain = nameMatch?.[1] ?? '';
  const path = nameMatch ? nameMatch[2] : m[1];
  if (path.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const ref: NamedReference = { domain, path };
  if (m[2]) ref.tag = m[2];
  if (m[3]) ref.digest = parseDigest(m[3]);
  return ref;
}

/** Splits a familiar or qualified name into domain and remote name (`splitDockerDomain`). */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === 'localhost') {
    [domain, remainder] = [maybeDomain, maybeRemote];
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    [domain, remainder] = [DEFAULT_DOMAIN, maybeRemote];
  } else if (/[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
    [domain, remainder] = [maybeDomain, maybeRemote];
  } else {
    [domain, remainder] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses a reference as the Docker CLI and dockerd accept it (`ParseNormalizedNamed`):
 * `busybox` → docker.io/library/busybox, `foo/bar:1` → docker.io/foo/bar:1.
 */
export function parseNormalizedNamed(s: string): NamedReference {
  if (isIdentifier(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseReference(`${domain}/${remainder}`);
}

/** What a user-supplied image string denotes: an image ID (digest) or a named reference. */
export type AnyReference = { kind: 'id'; id: string } | { kind: 'named'; ref: NamedReference };

/** `ParseAnyReference`: a 64-hex identifier or a full digest is an ID; anything else a name. */
export function parseAnyReference(s: string): AnyReference {
  if (isIdentifier(s)) return { kind: 'id', id: `sha256:${s}` };
  if (isValidDigest(s)) return { kind: 'id', id: s };
  return { kind: 'named', ref: parseNormalizedNamed(s) };
}

/** `<domain>/<path>`, the repository name without tag or digest. */
export function repositoryName(ref: NamedReference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
}

/** The full string: `docker.io/library/busybox:latest`, `docker.io/library/busybox@sha256:…`. */
export function referenceString(ref: NamedReference): string {
  let s = repositoryName(ref);
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** Adds the `latest` tag to a reference that has neither tag nor digest (`TagNameOnly`). */
export function tagNameOnly(ref: NamedReference): NamedReference {
  return ref.tag || ref.digest ? ref : { ...ref, tag: DEFAULT_TAG };
}

/** The name as the Docker UI shows it: docker.io and `library/` dropped. */
export function familiarName(ref: NamedReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** `busybox:latest`, `foo/bar@sha256:…`, `localhost:5000/x:1`. */
export function familiarString(ref: NamedReference): string {
  let s = familiarName(ref);
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** A reference stored in the tag index: `name:tag` or `name@digest` (never both). */
export function storeKeyOf(ref: NamedReference): string {
  if (ref.digest) return `${repositoryName(ref)}@${ref.digest}`;
  return referenceString(tagNameOnly(ref));
}

/** Familiar form of a stored reference string. */
export function familiarOfStored(s: string): string {
  return familiarString(parseReference(s));
}

/** A digest ("canonical") reference: has a digest. */
export function isCanonical(ref: NamedReference): boolean {
  return ref.digest !== undefined;
}

/**
 * The `repo` + `tag` pair of POST /images/{name}/tag (and commit/import), as dockerd's
 * `RepoTagReference` builds it: tag defaults to `latest`, digests are refused.
 */
export function repoTagReference(repo: string, tag?: string): NamedReference {
  if (repo === '') throw invalid('repository name must have at least one component');
  const ref = parseNormalizedNamed(repo);
  if (ref.digest) throw invalid('cannot import digest reference');
  let out: NamedReference;
  if (tag) {
    if (!ANCHORED_TAG_RE.test(tag)) throw invalid('invalid tag format');
    out = { domain: ref.domain, path: ref.path, tag };
  } else {
    out = tagNameOnly(ref);
  }
  if (familiarName(out) === 'sha256') {
    throw invalid('refusing to create an ambiguous tag using digest algorithm as name');
  }
  return out;
}

/** `repo@sha256:…` in familiar form, as RepoDigests lists it (`busybox@sha256:…`). */
export function repoDigestReference(ref: NamedReference, digest: string): string {
  return `${familiarString({ domain: ref.domain, path: ref.path })}@${digest}`;
}
