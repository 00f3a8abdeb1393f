/**
 * What a `docker save` tarball contains, read from its `manifest.json` (written by every Docker
 * since 1.10, and alongside `index.json` by Docker 25+), or, when that is missing, from the OCI
 * image layout (`index.json` + `blobs/`) that other tools write, or from the per-layer
 * directories and `repositories` of Docker before 1.10 (legacy-save.ts).
 */
import { join } from 'node:path';
import { InvalidParameterError } from '../../errors';
import type { SaveArchive } from './archive-ingest';
import { formatOfManifest } from './image-manifest';
import type { ArchivedImage } from './archived-image';
import { LEGACY_REPOSITORIES, readLegacyItems } from './legacy-save';

interface ManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  platform?: { architecture?: string; os?: string; variant?: string };
  annotations?: Record<string, string>;
}

const MANIFEST_JSON = 'manifest.json';
const INDEX_JSON = 'index.json';
const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';

const invalid = (message: string) => new InvalidParameterError(message);

/** The digest a member is named by, when its path says so. */
export function digestFromPath(path: string): string | undefined {
  const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  if (blob) return `sha256:${blob[1]}`;
  const legacyConfig = /^([a-f0-9]{64})\.json$/.exec(path);
  if (legacyConfig) return `sha256:${legacyConfig[1]}`;
  return undefined;
}

export async function readSaveItems(archive: SaveArchive, hostArch: string): Promise<ArchivedImage[]> {
  if (archive.has(MANIFEST_JSON)) return fromManifest(await archive.readJson<unknown>(MANIFEST_JSON));
  if (archive.has(INDEX_JSON)) return fromOciLayout(archive, hostArch);
  // Else the format of Docker before 1.10; dockerd's words when that fails too (no `repositories`).
  if (!archive.has(LEGACY_REPOSITORIES)) throw invalid(`open ${join(archive.dir, LEGACY_REPOSITORIES)}: no such file or directory`);
  return readLegacyItems(archive);
}

function stringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function fromManifest(manifest: unknown): ArchivedImage[] {
  if (manifest === null) throw invalid('invalid manifest, manifest cannot be null (but can be [])');
  if (!Array.isArray(manifest)) throw invalid('invalid manifest.json: expected an array');
  return manifest.map((raw: ManifestEntry, i) => {
    if (typeof raw !== 'object' || raw === null) throw invalid(`invalid manifest.json: entry ${i} is not an object`);
    if (typeof raw.Config !== 'string') throw invalid(`invalid manifest.json: entry ${i} has no Config`);
    const layers = raw.Layers ?? [];
    if (!stringArray(layers)) throw invalid(`invalid manifest.json: entry ${i} has invalid Layers`);
    const tags = raw.RepoTags ?? [];
    if (!stringArray(tags)) throw invalid(`invalid manifest.json: entry ${i} has invalid RepoTags`);
    return {
      config: raw.Config,
      configDigest: digestFromPath(raw.Config),
      repoTags: tags,
      layers: layers.map((path) => ({ path, digest: digestFromPath(path) })),
    };
  });
}

function blobPath(digest: unknown): string {
  if (typeof digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw invalid(`invalid OCI layout: unsupported digest ${JSON.stringify(digest)}`);
  }
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

async function fromOciLayout(archive: SaveArchive, hostArch: string): Promise<ArchivedImage[]> {
  const index = await archive.readJson<{ manifests?: Descriptor[] }>(INDEX_JSON);
  if (!Array.isArray(index?.manifests)) throw invalid('invalid OCI layout: index.json has no manifests');
  const items: ArchivedImage[] = [];
  for (const desc of index.manifests) {
    const name = desc.annotations?.[IMAGE_NAME_ANNOTATION];
    const manifestDesc = INDEX_TYPES.has(desc.mediaType ?? '') ? await pickPlatform(archive, desc, hostArch) : desc;
    if (!manifestDesc) continue;
    const manifest = await archive.readJson<{ mediaType?: string; config?: Descriptor; layers?: Descriptor[] }>(blobPath(manifestDesc.digest));
    if (!manifest?.config || !Array.isArray(manifest.layers)) throw invalid('invalid OCI layout: manifest without config or layers');
    const config = blobPath(manifest.config.digest);
    items.push({
      config,
      configDigest: manifest.config.digest,
      repoTags: name ? [name] : [],
      layers: manifest.layers.map((l) => ({ path: blobPath(l.digest), digest: l.digest })),
      format: formatOfManifest({ mediaType: manifest.mediaType ?? manifestDesc.mediaType, config: manifest.config }),
    });
  }
  return items;
}

/** From an image index, the manifest for linux/<hostArch> (or the only manifest). */
async function pickPlatform(archive: SaveArchive, desc: Descriptor, hostArch: string): Promise<Descriptor | undefined> {
  const index = await archive.readJson<{ manifests?: Descriptor[] }>(blobPath(desc.digest));
  const manifests = (index?.manifests ?? []).filter((m) => !INDEX_TYPES.has(m.mediaType ?? ''));
  const match = manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === hostArch);
  return match ?? (manifests.length === 1 ? manifests[0] : undefined);
}
