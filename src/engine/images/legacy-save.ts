/**
 * The save format of Docker before 1.10 (no manifest.json): one directory per layer, named by
 * its v1 ID, holding `json` (the v1 image: config, parent, created, ...) and `layer.tar`, plus
 * `repositories` mapping `name -> tag -> v1 ID`. Each directory becomes an image, as dockerd's
 * legacy load makes it (`[moby v20.10] image/tarexport/load.go`, `image/v1/imagev1.go`): its
 * config is the v1 JSON without `id`, `parent`, `Size`, `parent_id`, `layer_id` and
 * `throwaway`, with the rootfs and history of its layer chain, marshalled as Go marshals it, so
 * the image IDs are dockerd's; its parent is the image of the parent directory.
 */
import { InvalidParameterError } from '../../errors';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveError, type SaveArchive } from './archive-ingest';
import { decompressed, readLarge } from './compression';
import { HashingStream, sha256Digest } from '../digest';
import { goSortedObject, goString, goTime, rawMembers } from './go-json';
import type { ArchivedImage } from './archived-image';
import { v1ImageJson } from './v1-image-json';

export const LEGACY_REPOSITORIES = 'repositories';

const invalid = (message: string) => new InvalidParameterError(message);

interface V1Layer {
  /** The v1 JSON text. */
  json: string;
  /** What the image config is made of: the v1 JSON, or its re-marshalling (old Dockers). */
  configSource: string;
  parent?: string;
}

/** The images of a legacy archive, every parent before its children. */
export async function readLegacyItems(archive: SaveArchive): Promise<ArchivedImage[]> {
  const layers = new Map<string, V1Layer>();
  for (const dir of archive.topDirs()) {
    const path = `${dir}/json`;
    if (!archive.has(path)) throw invalid(`invalid image archive: ${path} not found in the archive`);
    const json = (await archive.read(path)).toString('utf8');
    const fields = rawMembers(json, `invalid image JSON ${path}`);
    const parent = jsonField(fields, 'parent');
    const os = jsonField(fields, 'os');
    if (parent !== undefined && typeof parent !== 'string') throw invalid(`invalid image JSON ${path}: parent is not a string`);
    if (os !== undefined && os !== null && os !== '' && os !== 'linux') throw invalid(`cannot load ${String(os)} image on linux`);
    // Docker before 1.8.3 wrote fields dockerd drops: it re-marshals those through its struct.
    const configSource = olderThanFallback(jsonField(fields, 'docker_version')) ? v1ImageJson(JSON.parse(json) as Record<string, unknown>, `invalid image JSON ${path}`) : json;
    layers.set(dir, { json, configSource, parent: parent || undefined });
  }

  // The diff ID of each layer (its config needs the whole chain's) is the digest of its tar, unpacked.
  const diffIds = new Map<string, string>();
  for (const v1id of layers.keys()) diffIds.set(v1id, await uncompressedDigest(archive.file(`${v1id}/layer.tar`).hostPath));

  const items: ArchivedImage[] = [];
  const made = new Map<string, { id: string; diffIds: string[]; history: string[]; layerPaths: string[] }>();
  const make = (v1id: string, seen: Set<string>): { id: string; diffIds: string[]; history: string[]; layerPaths: string[] } => {
    const done = made.get(v1id);
    if (done) return done;
    const layer = layers.get(v1id);
    if (!layer) throw invalid(`invalid image archive: ${v1id}/json not found in the archive`);
    if (seen.has(v1id)) throw invalid(`invalid image archive: ${v1id} is its own ancestor`);
    seen.add(v1id);
    const parent = layer.parent ? make(layer.parent, seen) : undefined;
    const layerPath = `${v1id}/layer.tar`;
    const diffId = diffIds.get(v1id);
    if (!diffId) throw invalid(`invalid image archive: ${layerPath} not found in the archive`);
    const history = [...(parent?.history ?? []), historyEntry(layer.json, `${v1id}/json`)];
    const chain = [...(parent?.diffIds ?? []), diffId];
    const configBytes = Buffer.from(imageConfig(layer.configSource, chain, history));
    const id = sha256Digest(configBytes);
    const layerPaths = [...(parent?.layerPaths ?? []), layerPath];
    items.push({ config: `${v1id}/json`, configBytes, repoTags: [], layers: layerPaths.map((path) => ({ path })), parent: parent?.id, legacy: true });
    const result = { id, diffIds: chain, history, layerPaths };
    made.set(v1id, result);
    return result;
  };
  for (const v1id of layers.keys()) make(v1id, new Set());

  const repositories = await archive.readJson<unknown>(LEGACY_REPOSITORIES);
  if (typeof repositories !== 'object' || repositories === null || Array.isArray(repositories)) throw invalid('invalid image archive: repositories is not an object');
  for (const [name, tags] of Object.entries(repositories as Record<string, unknown>)) {
    if (typeof tags !== 'object' || tags === null) throw invalid(`invalid image archive: repositories: ${name} is not an object`);
    for (const [tag, v1id] of Object.entries(tags as Record<string, unknown>)) {
      const target = typeof v1id === 'string' ? made.get(v1id) : undefined;
      if (!target) throw invalid(`invalid target ID: ${String(v1id)}`);
      items.find((item) => item.config === `${v1id}/json`)!.repoTags.push(`${name}:${tag}`);
    }
  }
  return items;
}

/** sha256 of the file's bytes, decompressed when they are compressed. */
async function uncompressedDigest(hostPath: string): Promise<string> {
  const hasher = new HashingStream();
  try {
    const { stream } = await decompressed(readLarge(hostPath), 'layer');
    await pipeline(stream, hasher, new Writable({ write: (_chunk, _enc, cb) => cb() }));
  } catch (err) {
    throw archiveError(err, 'invalid layer');
  }
  return hasher.digest();
}

/** A member's value, read as Go reads struct fields: keys matched without regard to case, the last one given wins. */
function jsonField(fields: Map<string, string>, name: string): unknown {
  let raw: string | undefined;
  for (const [k, v] of fields) if (k.toLowerCase() === name.toLowerCase()) raw = v;
  return raw === undefined ? undefined : JSON.parse(raw);
}

/** dockerd re-marshals v1 JSON through its own struct when docker_version < 1.8.3 (or absent). */
function olderThanFallback(version: unknown): boolean {
  const parts = String(version ?? '').split('.').map((p) => Number.parseInt(p, 10) || 0);
  const min = [1, 8, 3];
  for (let i = 0; i < 3; i++) if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) < min[i];
  return false;
}

/** The history entry dockerd makes of a v1 JSON (`HistoryFromConfig`). */
function historyEntry(json: string, what: string): string {
  const fields = rawMembers(json, `invalid image JSON ${what}`);
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const containerConfig = jsonField(fields, 'container_config');
  const cmd = containerConfig && typeof containerConfig === 'object' ? jsonField(new Map(Object.entries(containerConfig).map(([k, v]) => [k, JSON.stringify(v)])), 'cmd') : undefined;
  const createdBy = Array.isArray(cmd) ? cmd.join(' ') : typeof cmd === 'string' ? cmd : '';
  const author = str(jsonField(fields, 'author'));
  const comment = str(jsonField(fields, 'comment'));
  let out = `{"created":${goString(goTime(jsonField(fields, 'created'), `invalid image JSON ${what}`))}`;
  if (author) out += `,"author":${goString(author)}`;
  if (createdBy) out += `,"created_by":${goString(createdBy)}`;
  if (comment) out += `,"comment":${goString(comment)}`;
  return `${out}}`;
}

/** The image config dockerd makes of a v1 JSON (`MakeConfigFromV1Config`). */
function imageConfig(json: string, diffIds: string[], history: string[]): string {
  const members = rawMembers(json, 'invalid image JSON');
  for (const key of ['id', 'parent', 'Size', 'parent_id', 'layer_id', 'throwaway']) members.delete(key);
  members.set('rootfs', `{"type":"layers","diff_ids":[${diffIds.map(goString).join(',')}]}`);
  members.set('history', `[${history.join(',')}]`);
  return goSortedObject(members);
}
