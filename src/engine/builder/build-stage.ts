/**
 * What every build step works with: the stage being built, the context a step runs in (the
 * engines, the request, the cache, the output) and the conventions steps share (the default
 * shell, the `#(nop)` history prefix).
 */
import type { Logger } from 'pino';
import { envObject } from '../env-vars';
import type { ContainerImageConfig } from '../images/types';
import type { BuildContainers, BuildImages, BuildOptions } from './build-ports';

export interface Stage {
  name?: string;
  /** The image so far; undefined on `scratch` before the first step. */
  imageId?: string;
  config: ContainerImageConfig;
  /** ARGs declared in this stage (name → value in effect). */
  args: Map<string, string>;
  /** A CMD was given in this stage (an ENTRYPOINT then keeps it). */
  cmdSet?: boolean;
  /** MAINTAINER, the images' author. */
  author?: string;
}

/** The build cache as a step uses it (step-cache.ts). */
export interface StepCacheLookup {
  /** The step's identity: its history line and the config it ends with. */
  key(stage: Stage, step: string): string;
  /** Whether the cache has the step's image; if so it becomes the stage's image. */
  hit(stage: Stage, key: string, createdBy: string): Promise<boolean>;
}

/** One build's context for its steps. */
export interface StepContext {
  images: BuildImages;
  containers: BuildContainers;
  opts: BuildOptions;
  log: Logger;
  cache: StepCacheLookup;
  /** The Dockerfile's escape character (its `# escape=` directive). */
  escapeToken: string;
  /** Writes build output (nothing with `quiet`). */
  say(text: string): void;
}

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
export const NOP = '#(nop) ';

/** The variables `$NAME` expands to: the stage's ENV, then its ARGs (ENV wins, as in dockerd). */
export function expansionEnv(stage: Stage): Record<string, string> {
  return { ...Object.fromEntries(stage.args), ...envObject(stage.config.Env ?? []) };
}

/** `/a/b/c` → `a`, `a/b`, `a/b/c`: a directory and its parents, top first. */
export function pathChain(dir: string): string[] {
  return dir.split('/').filter(Boolean).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
}
