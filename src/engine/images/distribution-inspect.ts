/**
 * `GET /distribution/{name}/json`: what the registry serves for a reference — the manifest's
 * descriptor and the platforms it covers (every entry of an index; a single image's from its
 * config) — without pulling anything. Compose, buildx and `docker service` ask it for the
 * digest to pin and the platforms to build or schedule for.
 */
import type { Logger } from 'pino';
import { InvalidParameterError } from '../../errors';
import { readEndpoints } from '../registry/endpoint';
import { RegistryClient, type FetchedManifest, type RegistryCredentials } from '../registry/registry-client';
import { parseAnyReference, tagNameOnly } from './reference';

export interface DistributionContext {
  log: Logger;
  insecureRegistries: readonly string[];
  registryMirrors: readonly string[];
  registryHostMirrors?: Readonly<Record<string, readonly string[]>>;
  certsDir?: string;
}

/** An OCI platform as dockerd encodes it (`os.version`, `os.features`, `variant` only when set). */
export interface DistributionPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: DistributionPlatform[];
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const SCHEMA1_TYPES = new Set(['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws']);

export async function inspectDistribution(ctx: DistributionContext, name: string, creds: RegistryCredentials): Promise<DistributionInspect> {
  const any = parseAnyReference(name);
  if (any.kind === 'id') throw new InvalidParameterError('no manifest found for full image ID');
  const ref = tagNameOnly(any.ref);
  const reference = ref.digest ?? ref.tag!;
  const endpoints = readEndpoints(ref.domain, ctx);
  // Mirrors first, the registry last; the last error stands (dockerd's loop over repositories).
  let lastErr: unknown;
  for (const endpoint of endpoints) {
    const client = new RegistryClient(endpoint, ref.path, creds);
    try {
      const manifest = await client.manifestAsServed(reference);
      if (SCHEMA1_TYPES.has(manifest.mediaType)) {
        throw new InvalidParameterError(`Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${name} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2.`);
      }
      return {
        Descriptor: { mediaType: manifest.mediaType, digest: ref.digest ?? manifest.digest, size: manifest.bytes.length },
        Platforms: await platformsOf(client, manifest),
      };
    } catch (err) {
      lastErr = err;
      if (endpoint !== endpoints[endpoints.length - 1]) ctx.log.info({ err, mirror: endpoint.base }, 'mirror failed; trying the next source');
    }
  }
  throw lastErr;
}

/** An index lists its platforms; a single image names its own in its config (none if unreadable). */
async function platformsOf(client: RegistryClient, manifest: FetchedManifest): Promise<DistributionPlatform[]> {
  const body = JSON.parse(manifest.bytes.toString('utf8')) as { manifests?: Array<{ platform?: Record<string, unknown> }>; config?: { digest?: string } };
  if (INDEX_TYPES.has(manifest.mediaType) || Array.isArray(body.manifests)) return (body.manifests ?? []).map((m) => platform(m.platform ?? {}));
  if (!body.config?.digest) return [];
  try {
    const p = platform(JSON.parse((await client.blobBytes(body.config.digest)).toString('utf8')) as Record<string, unknown>);
    return p.os || p.architecture ? [p] : [];
  } catch {
    return [];
  }
}

function platform(src: Record<string, unknown>): DistributionPlatform {
  const str = (k: string) => (typeof src[k] === 'string' ? (src[k] as string) : '');
  const p: DistributionPlatform = { architecture: str('architecture'), os: str('os') };
  if (str('os.version')) p['os.version'] = str('os.version');
  if (Array.isArray(src['os.features']) && src['os.features'].length) p['os.features'] = (src['os.features'] as unknown[]).map(String);
  if (str('variant')) p.variant = str('variant');
  return p;
}
