import type { Readable } from 'node:stream';

export interface BuildRequest {
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  noCache: boolean;
  rm: boolean;
  forceRm: boolean;
  quiet: boolean;
  target?: string;
  networkMode?: string;
  signal?: AbortSignal;
}

/** What the build route needs from the engine. */
export interface BuildBackend {
  /** Builds from the context tar; `progress` gets dockerd's JSON messages. Returns the image ID. */
  build(context: Readable, req: BuildRequest, progress: (p: object) => void): Promise<string>;
}
