import type { Readable } from 'node:stream';
import type { RegistryCredentials } from '../../engine/registry/registry-client';

/** What the image routes need from the engine. */
export interface ImageBackend {
  list(filters: Record<string, string[]>, all: boolean): Promise<object[]>;
  prune(filters: Record<string, string[]>): Promise<object>;
  inspect(ref: string): Promise<object>;
  load(input: Readable, opts?: { signal?: AbortSignal }): Promise<string[]>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  history(ref: string): Promise<object[]>;
  save(names: string[]): Promise<Readable>;
  push(name: string, tag: string | undefined, opts: { creds?: RegistryCredentials; progress: (p: object) => void }): Promise<void>;
  pull(ref: string, opts: { platform?: string; creds?: RegistryCredentials; progress: (p: object) => void }): Promise<string[]>;
  importImage(input: Readable, opts: { repo?: string; tag?: string; message?: string; changes?: string[] }): Promise<string>;
  importUrl(url: string, opts: { repo?: string; tag?: string; message?: string; changes?: string[] }): Promise<string>;
  remove(ref: string, opts: { force: boolean; noprune: boolean }): Promise<Array<{ Untagged?: string; Deleted?: string }>>;
}
