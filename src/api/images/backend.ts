import type { Readable } from 'node:stream';
import type { HistoryItem } from '../../engine/images/image-history';
import type { DeleteRecord, PruneImagesResult } from '../../engine/images/image-delete';
import type { ImageInspect, ImageSummary } from '../../engine/images/image-views';
import type { ProgressMessage } from '../../engine/progress';
import type { RegistryCredentials } from '../../engine/registry/registry-client';
import type { Filters } from '../../engine/filter-args';

/** What `docker import` sets on the new image. */
export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
}

/**
 * What the image routes need from the engine. Transfers stop when the client goes away: pull,
 * push and load by their `signal`, save when the route destroys the archive stream.
 */
export interface ImageBackend {
  list(filters: Filters, all: boolean): Promise<ImageSummary[]>;
  prune(filters: Filters): Promise<PruneImagesResult>;
  inspect(ref: string): Promise<ImageInspect>;
  load(input: Readable, opts: { signal: AbortSignal }): Promise<string[]>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  history(ref: string): Promise<HistoryItem[]>;
  save(names: string[]): Promise<Readable>;
  push(name: string, tag: string | undefined, opts: { creds?: RegistryCredentials; progress: (p: ProgressMessage) => void; signal: AbortSignal }): Promise<void>;
  pull(ref: string, opts: { platform?: string; creds?: RegistryCredentials; progress: (p: ProgressMessage) => void; signal: AbortSignal }): Promise<string[]>;
  importImage(input: Readable, opts: ImportOptions): Promise<string>;
  importUrl(url: string, opts: ImportOptions): Promise<string>;
  remove(ref: string, opts: { force: boolean; noprune: boolean }): Promise<DeleteRecord[]>;
}
