import type { Readable } from 'node:stream';
import type { BuildOptions } from '../../engine/builder/builder';

/** The build parameters of POST /build, as the engine takes them. */
export type BuildRequest = Omit<BuildOptions, 'progress' | 'log'>;

/** What the build route needs from the engine. */
export interface BuildBackend {
  /** Builds from the context tar; `progress` gets dockerd's JSON messages. Returns the image ID. */
  build(context: Readable, req: BuildRequest, progress: (p: object) => void): Promise<string>;
}
