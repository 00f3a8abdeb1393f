/**
 * Runs builds (POST /build) against the image and container services; see builder.ts. Builds
 * may run side by side: each has its own work dir and containers.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { FsTools } from '../../host/fs-tools';
import type { BuildContainers, BuildImages, BuildOptions } from './build-ports';
import { Builder } from './builder';
import type { ProgressMessage } from '../progress';

export class BuildService {
  private readonly fsTools = new FsTools();

  constructor(private readonly deps: { images: BuildImages; containers: BuildContainers; log: Logger }) {}

  async build(context: Readable, req: Omit<BuildOptions, 'progress' | 'log'>, progress: (p: ProgressMessage) => void): Promise<string> {
        const builder = new Builder({ ...this.deps, fsTools: this.fsTools }, { ...req, progress });
    return builder.build(context);
  }
}
