/**
 * The image engine's side of registries: pull, push, login and distribution inspect. The
 * protocols live in image-pull.ts, image-push.ts and ../registry; this module gives them the
 * daemon's registry settings and applies what they learn (new images, RepoDigests, layer
 * sources, compressed blobs) to the records under their lock.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { NotFoundError } from '../../errors';
import type { ProgressMessage } from '../progress';
import { registryEndpoint } from '../registry/endpoint';
import { RegistryClient, type RegistryCredentials } from '../registry/registry-client';
import { KEY } from '../store/schema';
import type { BatchOp } from '../store/store';
import { inspectDistribution, type DistributionInspect } from './distribution-inspect';
import { pullRepository, type PullProgress } from './image-pull';
import { pushImage } from './image-push';
import { HOST_ARCH, type ImageRecords } from './image-records';
import { withSource } from './layer-sources';
import { familiarOfStored, familiarString, parseNormalizedNamed, repoDigestReference, type NamedReference } from './reference';
import type { ImageRecord, LayerBlob } from './types';

export interface RegistrySettings {
  /** `--insecure-registry`: registries reached over plain HTTP besides loopback ones. */
  insecureRegistries?: readonly string[];
  /** `--registry-mirror`: tried first for docker.io pulls. */
  registryMirrors?: readonly string[];
  /** `--registry-host-mirror`: mirrors tried first for other registries, by registry host (containerd's registry mirrors). */
  registryHostMirrors?: Readonly<Record<string, readonly string[]>>;
  /** `--registry-certs-dir`: per-registry CA certificates. */
  registryCertsDir?: string;
}

export class ImageTransfers {
  /** Layers being pulled right now (see PullContext.inflight). */
  private readonly pullsInFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly records: ImageRecords,
    private readonly registries: RegistrySettings,
  ) {}

  /**
   * POST /images/create?fromImage=: pulls `ref` (tag or digest; a bare name: every tag) from
   * its registry, reporting progress as dockerd's JSON messages. Returns the image IDs.
   */
  async pull(refText: string, opts: { platform?: string; creds?: RegistryCredentials; progress: (p: PullProgress) => void; log?: Logger; signal?: AbortSignal }): Promise<string[]> {
    const ref = parseNormalizedNamed(refText);
    const { files } = this.records;
    const workDir = await files.workDir('pull');
    try {
      return await pullRepository(
        {
          store: this.records.store,
          files,
          fsTools: this.records.fsTools,
          log: opts.log ?? this.records.log,
          hostArch: HOST_ARCH,
          insecureRegistries: this.registries.insecureRegistries ?? [],
          registryMirrors: this.registries.registryMirrors ?? [],
          registryHostMirrors: this.registries.registryHostMirrors ?? {},
          certsDir: this.registries.registryCertsDir,
          progress: opts.progress,
          signal: opts.signal,
          exclusive: (fn) => this.records.exclusive(fn),
          inflight: this.pullsInFlight,
        },
        ref,
        opts.creds ?? {},
        workDir,
        opts.platform,
      );
    } finally {
      await files.removeWorkDir(workDir);
    }
  }

  /**
   * POST /images/{name}/push: pushes `name:tag`, or every tag of the repository when no tag is
   * given; the manifest digest becomes a RepoDigest of the image.
   */
  async push(name: string, tag: string | undefined, opts: { creds?: RegistryCredentials; progress: (p: ProgressMessage) => void; signal?: AbortSignal }): Promise<void> {
    const base = parseNormalizedNamed(name);
    const refs = await this.records.refsByImage();
    const targets: NamedReference[] = [];
    if (tag || base.tag) targets.push({ domain: base.domain, path: base.path, tag: tag || base.tag });
    else {
      for (const list of refs.values()) {
        for (const stored of list) {
          const r = parseNormalizedNamed(familiarOfStored(stored));
          if (r.tag && !r.digest && r.domain === base.domain && r.path === base.path) targets.push(r);
        }
      }
    }
    if (targets.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(base)}`);
    const { store } = this.records;
    for (const target of targets) {
      const rec = await this.records.resolve(familiarString(target)).catch(() => {
        throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(target)}`);
      });
      const { digest } = await pushImage(
        {
          files: this.records.files,
          layer: (c) => this.records.layer(c),
          insecureRegistries: this.registries.insecureRegistries ?? [],
          certsDir: this.registries.registryCertsDir,
          progress: opts.progress,
          signal: opts.signal,
          recordSource: (chainIds, repo) => this.recordLayerSource(chainIds, repo),
          keepCompressed: (chainId, oldDigest, copyPath, blob) => this.keepCompressedBlob(chainId, oldDigest, copyPath, blob),
        },
        target,
        rec,
        opts.creds ?? {},
      );
      await this.records.exclusive(async () => {
        const current = await store.get<ImageRecord>(KEY.image(rec.id));
        if (!current) return;
        const repoDigest = repoDigestReference(target, digest);
        if (!current.repoDigests.includes(repoDigest)) await store.batch([{ type: 'put', key: KEY.image(rec.id), value: { ...current, repoDigests: [...current.repoDigests, repoDigest] } }]);
      });
    }
  }

  /** POST /auth: credentials checked against the registry (docker.io when none is named). */
  async login(creds: RegistryCredentials & { serveraddress?: string }): Promise<{ Status: string; IdentityToken: string }> {
    const address = (creds.serveraddress || 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const domain = address === 'index.docker.io' || address === 'registry-1.docker.io' ? 'docker.io' : address;
    await new RegistryClient(registryEndpoint(domain, this.registries.insecureRegistries ?? [], this.registries.registryCertsDir), '', creds).checkLogin();
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  /** GET /distribution/{name}/json: the registry's descriptor and platforms for `name`, nothing pulled. */
  async distributionInspect(name: string, opts: { creds?: RegistryCredentials; log?: Logger } = {}): Promise<DistributionInspect> {
    const ctx = {
      log: opts.log ?? this.records.log,
      insecureRegistries: this.registries.insecureRegistries ?? [],
      registryMirrors: this.registries.registryMirrors ?? [],
      registryHostMirrors: this.registries.registryHostMirrors ?? {},
      certsDir: this.registries.registryCertsDir,
    };
    return inspectDistribution(ctx, name, opts.creds ?? {});
  }

  /** A push compressed the layer's blob: the compressed file replaces it (see pushLayer). */
  private async keepCompressedBlob(chainId: string, oldDigest: string, copyPath: string, blob: LayerBlob): Promise<void> {
    const { store, files } = this.records;
    await this.records.exclusive(async () => {
      const layer = await this.records.layer(chainId);
      if (!layer?.blob || layer.blob.digest !== oldDigest) return;
      await files.moveIntoLayer(chainId, copyPath, blob);
      // The old blob's sources do not hold the new one.
      await store.batch([{ type: 'put', key: KEY.layer(chainId), value: { ...layer, blob, sources: undefined } }]);
      await rm(files.layerBlobPath(chainId, layer.blob), { force: true });
    });
  }

  /** Notes that `repo` holds these layers' blobs (a later push elsewhere can mount them). */
  private async recordLayerSource(chainIds: string[], repo: string): Promise<void> {
    await this.records.exclusive(async () => {
      const ops: BatchOp[] = [];
      for (const chainId of chainIds) {
        const layer = await this.records.layer(chainId);
        const next = layer && withSource(layer, repo);
        if (next && next !== layer) ops.push({ type: 'put', key: KEY.layer(chainId), value: next });
      }
      if (ops.length) await this.records.store.batch(ops);
    });
  }
}
