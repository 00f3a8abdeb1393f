import type { Readable } from 'node:stream';

/** What the image routes need from the engine. */
export interface ImageBackend {
  list(filters: Record<string, string[]>, all: boolean): Promise<object[]>;
  prune(filters: Record<string, string[]>): Promise<object>;
  inspect(ref: string): Promise<object>;
  load(input: Readable, opts?: { signal?: AbortSignal }): Promise<string[]>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  history(ref: string): Promise<object[]>;
  save(names: string[]): Promise<Readable>;
  importImage(input: Readable, opts: { repo?: string; tag?: string; message?: string; changes?: string[] }): Promise<string>;
  remove(ref: string, opts: { force: boolean; noprune: boolean }): Promise<Array<{ Untagged?: string; Deleted?: string }>>;
}
