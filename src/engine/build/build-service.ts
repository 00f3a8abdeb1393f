/**
 * Runs builds (POST /build) against the image and container services; see builder.ts. Builds
 * may run side by side: each has its own work dir and containers.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ContainerService } from '../containers/container-service';
import { FsTools } from '../images/fs-tools';
import type { ImageService } from '../images/image-service';
import { Builder, type BuildContainers, type BuildImages, type BuildOptions } from './builder';

export class BuildService {
  private readonly images: BuildImages;
  private readonly containers: BuildContainers;
  private readonly fsTools = new FsTools();
  private readonly log: Logger;

  constructor(deps: { images: ImageService; containers: ContainerService; log: Logger }) {
    const { images, containers } = deps;
    this.log = deps.log;
    this.images = {
      resolve: (ref) => images.resolve(ref),
      pull: (ref, opts) => images.pull(ref, { platform: opts.platform, creds: opts.creds, progress: opts.progress }),
      commit: (opts) => images.commit(opts),
      buildCache: (parentId, key) => images.buildCache(parentId, key),
      tag: (source, repo, tag) => images.tag(source, repo, tag),
      workDir: (prefix) => images.workDir(prefix),
      removeWorkDir: (dir) => images.removeWorkDir(dir),
    };
    this.containers = {
      create: (opts) => containers.create(opts),
      start: (id) => containers.start(id),
      wait: (id, condition) => containers.wait(id, condition),
      logs: (id, opts) => containers.logs(id, opts),
      remove: (id, opts) => containers.remove(id, opts),
      putArchive: (id, body, opts) => containers.putArchive(id, body, opts),
      getArchive: (id, path) => containers.getArchive(id, path),
      statPath: (id, path) => containers.statPath(id, path),
      commit: (id, opts) => containers.commit(id, opts),
    };
  }

  async build(context: Readable, req: Omit<BuildOptions, 'progress' | 'log'>, progress: (p: object) => void): Promise<string> {
    const builder = new Builder({ images: this.images, containers: this.containers, fsTools: this.fsTools, log: this.log }, { ...req, progress });
    return builder.build(context);
  }
}
