/** `docker commit` (and the builder's steps): a container's changes as a new image on its own. */
import type { Logger } from 'pino';
import type { ContainerImageConfig } from '../images/types';
import type { ContainerArchive } from './archive/container-archive';
import { commitImageConfig } from './commit-config';
import type { ImageLookup } from './container-deps';
import type { ContainerRecords } from './container-records';
import type { ContainerLifecycle } from './lifecycle';
import type { ContainerConfig, ContainerRecord } from './types';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  /** Config to apply over the container's (the request body). */
  config?: ContainerConfig;
  /** Dockerfile instructions (`--change`). */
  changes?: string[];
  /** Pause a running container while committing (default true, as dockerd). */
  pause?: boolean;
  /** Builds: the new image's config exactly (no merging with the container's). */
  imageConfig?: ContainerImageConfig;
  /** Builds: the history entry's created_by (default: the container's command). */
  createdBy?: string;
  /** Builds: see ImageRecord.buildKey. */
  buildKey?: string;
}

export interface ContainerCommitDeps {
  records: ContainerRecords;
  archive: ContainerArchive;
  /** A running container is paused while its layer is read. */
  lifecycle: Pick<ContainerLifecycle, 'pause' | 'unpause'>;
  images: ImageLookup;
  log: Logger;
}

export class ContainerCommit {
  constructor(private readonly deps: ContainerCommitDeps) {}

  /** POST /commit: the container's changes as a new image on top of its own. */
  async commit(ref: string, opts: CommitOptions): Promise<string> {
    const { lifecycle, log } = this.deps;
    const c = this.deps.records.get(ref);
    const config = opts.imageConfig ?? commitImageConfig(c.config, opts.config, opts.changes ?? []);
    // dockerd pauses a running container while its layer is read (unless --pause=false). A
    // container that exits meanwhile cannot be paused and needs no pause: dockerd ignores a
    // failed pause and commits all the same.
    let paused = false;
    if (opts.pause !== false && c.state.Running && !c.state.Paused) {
      paused = await lifecycle.pause(c.id).then(
        () => true,
        (err) => {
          log.debug({ err, container: c.id }, 'pause for commit failed; committing unpaused');
          return false;
        },
      );
    }
    try {
      return await this.commitPaused(c, config, opts);
    } finally {
      if (paused) await lifecycle.unpause(c.id).catch((err) => log.warn({ err, container: c.id }, 'unpause after commit failed'));
    }
  }

  private async commitPaused(c: ContainerRecord, config: ContainerImageConfig, opts: CommitOptions): Promise<string> {
    const layer = await this.deps.archive.layerTar(c);
    try {
      const id = await this.deps.images.commit({
        parentId: c.image,
        layer,
        config,
        author: opts.author,
        comment: opts.comment,
        createdBy: opts.createdBy ?? [c.path, ...c.args].join(' '),
        repo: opts.repo,
        tag: opts.tag,
        buildKey: opts.buildKey,
      });
      this.deps.records.emit(c, 'commit', { comment: opts.comment ?? '', imageID: id, imageRef: opts.repo ? `${opts.repo}:${opts.tag || 'latest'}` : '' });
      return id;
    } finally {
      layer.destroy();
    }
  }
}
