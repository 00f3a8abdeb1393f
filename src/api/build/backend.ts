import type { Readable } from 'node:stream';
import type { BuildOptions } from '../../engine/builder/build-ports';
import type { ProgressMessage } from '../../engine/progress';

/** The build parameters of POST /build, as the engine takes them; `signal` stops the build. */
export type BuildRequest = Omit<BuildOptions, 'progress' | 'log' | 'signal'> & { signal: AbortSignal };

/** What the build route needs from the engine. */
export interface BuildBackend {
  /** Builds from the context tar; `progress` gets dockerd's JSON messages. Returns the image ID. */
  build(context: Readable, req: BuildRequest, progress: (p: ProgressMessage) => void): Promise<string>;
}
