/**
 * `docker build` with the classic builder (POST /build; `[moby] builder/dockerfile`): the
 * Dockerfile's instructions run in order, each making an image on top of the previous one.
 * RUN runs the command in a container and commits what it changed; COPY and ADD write the
 * sources into a container (or straight into a layer on `scratch`) and commit; the other
 * instructions only change the config. Every step's image remembers its step (the build
 * cache): a later build reuses the child of the same parent made by the same step.
 * Output is dockerd's: `Step N/M : …`, ` ---> <id>`, the RUN output, `Successfully built …`.
 * This module runs the build: stages, FROM, ARG and the config-only instructions; RUN is in
 * run-step.ts, COPY/ADD/WORKDIR in file-steps.ts, the cache lookup in step-cache.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Logger } from 'pino';
import { InvalidParameterError, NotFoundError } from '../../errors';
import { parseDockerfile, type Instruction } from '../dockerfile/instructions';
import { expandInstructionArgs, expandWord } from '../dockerfile/shell-lexer';
import { mergeEnv } from '../env-vars';
import type { FsTools } from '../../host/fs-tools';
import { extractLayer } from '../images/layer-extract';
import { shortId } from '../ids';
import { applyInstruction } from '../images/config-changes';
import { parseNormalizedNamed, repoTagReference } from '../images/reference';
import type { RegistryCredentials } from '../registry/registry-client';
import type { ImageRecord } from '../images/types';
import { unpackContext, type BuildContext } from './build-context';
import type { BuildContainers, BuildImages, BuildOptions } from './build-ports';
import { DEFAULT_SHELL, expansionEnv, NOP, type Stage, type StepContext } from './build-stage';
import { copyStep, workdirStep } from './file-steps';
import { runStep } from './run-step';
import { StepCache } from './step-cache';

/** The flags the classic builder takes, per instruction (FROM's are checked in from()). */
const CLASSIC_FLAGS: Record<string, string[]> = {
  copy: ['from', 'chown'],
  add: ['chown'],
  healthcheck: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};
/** dockerd's predefined args: usable without an ARG line, and never reported as unused. */
const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export class Builder {
  private readonly stages: Stage[] = [];
  private readonly usedArgs = new Set<string>();
  private readonly globalArgs = new Map<string, string>();
  /** Image file trees unpacked for COPY --from in this build (see stageFiles). */
  private readonly unpacked = new Set<string>();
  private readonly log: Logger;
  private escapeToken = '\\';
  private readonly cache: StepCache;

  constructor(
    private readonly deps: { images: BuildImages; containers: BuildContainers; fsTools: FsTools; log: Logger },
    private readonly opts: BuildOptions,
  ) {
    this.log = opts.log ?? deps.log;
    this.cache = new StepCache(deps.images, opts.noCache, (text) => this.say(text));
  }

  /** What the steps in step modules see of this build. */
  private get step(): StepContext {
    const { images, containers } = this.deps;
    return { images, containers, opts: this.opts, log: this.log, cache: this.cache, escapeToken: this.escapeToken, say: (text) => this.say(text) };
  }

  /** Runs the build of the context tar `input`; returns the image ID. */
  async build(input: NodeJS.ReadableStream): Promise<string> {
    const tags = this.opts.tags.map(splitTag);
    for (const t of tags) repoTagReference(t.repo, t.tag); // a bad name fails before any work
    const workDir = await this.deps.images.workDir('build');
    try {
      const started = Date.now();
      const ctx = await unpackContext(input, posix.join(workDir, 'context'), this.opts.dockerfile, { ...this.deps, signal: this.opts.signal });
      this.log.debug({ ms: Date.now() - started }, 'build context unpacked');
      const parsed = parseDockerfile(ctx.dockerfile, this.opts.dockerfile || 'Dockerfile');
      if (this.opts.cacheFrom) await this.cache.useSources(this.opts.cacheFrom, this.log);
      this.escapeToken = parsed.escapeToken;
      const steps = this.stepsToRun(parsed.instructions);
      const labels = Object.entries(this.opts.labels);
      const total = steps.length + (labels.length ? 1 : 0);
      let stage: Stage | undefined;
      for (const [i, ins] of steps.entries()) {
        if (this.opts.signal?.aborted) throw new InvalidParameterError('the build was canceled: the client went away');
        this.say(`Step ${i + 1}/${total} : ${ins.original}\n`);
        if (ins.cmd === 'from') stage = await this.from(ins, ctx, workDir);
        else if (!stage) {
          if (ins.cmd !== 'arg') throw new InvalidParameterError('no build stage in current context');
          this.globalArg(ins);
        } else await this.dispatch(stage, ins, ctx, workDir);
      }
      if (stage && labels.length) {
        // --label: one more LABEL step on the result, its values taken literally (dockerd's).
        const text = labels.map(([k, v]) => `${k}=${v}`).join(' ');
        this.say(`Step ${total}/${total} : LABEL ${text}\n`);
        stage.config = { ...stage.config, Labels: { ...(stage.config.Labels ?? {}), ...Object.fromEntries(labels) } };
        await this.commitConfig(stage, `LABEL ${text}`);
      }
      const last = stage;
      if (!last?.imageId) throw new InvalidParameterError('No image was generated. Is your Dockerfile empty?');
      this.warnUnusedArgs();
      const id = last.imageId;
      this.opts.progress({ aux: { ID: id } });
      if (this.opts.quiet) this.opts.progress({ stream: `${id}\n` });
      else this.say(`Successfully built ${shortId(id)}\n`);
      for (const t of tags) {
        await this.deps.images.tag(id, t.repo, t.tag);
        if (!this.opts.quiet) this.say(`Successfully tagged ${t.repo}:${t.tag ?? 'latest'}\n`);
      }
      return id;
    } finally {
      await this.deps.images.removeWorkDir(workDir);
    }
  }

  /** The instructions up to the end of the target stage. */
  private stepsToRun(all: Instruction[]): Instruction[] {
    let steps = all;
    if (this.opts.target) {
      const froms = all.map((ins, i) => ({ ins, i })).filter((x) => x.ins.cmd === 'from');
      const at = froms.findIndex((f) => stageName(f.ins)?.toLowerCase() === this.opts.target!.toLowerCase());
      if (at < 0) throw new InvalidParameterError(`failed to reach build target ${this.opts.target} in Dockerfile`);
      steps = all.slice(0, froms[at + 1]?.i ?? all.length);
    }
    if (!steps.some((s) => s.cmd === 'from')) throw new InvalidParameterError('Please provide a source image with `from` prior to commit');
    return steps;
  }

  private say(text: string): void {
    if (!this.opts.quiet) this.opts.progress({ stream: text });
  }

  // ---- FROM and ARG ----

  private async from(ins: Instruction, ctx: BuildContext, workDir: string): Promise<Stage> {
    const words = ins.args;
    if (words.length !== 1 && !(words.length === 3 && words[1].toLowerCase() === 'as')) {
      throw new InvalidParameterError('FROM requires either one or three arguments');
    }
    const unknown = Object.keys(ins.flags).find((f) => f !== 'platform');
    if (unknown) throw new InvalidParameterError(`the --${unknown} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
    const platform = ins.flags.platform ? expandWord(ins.flags.platform, Object.fromEntries(this.globalArgs), this.escapeToken) : undefined;
    const ref = expandWord(words[0], Object.fromEntries(this.globalArgs), this.escapeToken);
    const stage: Stage = { name: words[2]?.toLowerCase(), config: {}, args: new Map() };
    const previous = this.stages.find((s) => s.name === ref.toLowerCase());
    if (previous) {
      stage.imageId = previous.imageId;
      stage.config = structuredClone(previous.config);
    } else if (ref !== 'scratch') {
      const image = await this.baseImage(ref, platform);
      stage.imageId = image.id;
      stage.config = structuredClone(image.config.config ?? {});
    }
    this.stages.push(stage);
    this.say(` ---> ${stage.imageId ? shortId(stage.imageId) : ''}\n`); // dockerd prints an empty ID for scratch
    const triggers = stage.config.OnBuild ?? [];
    if (triggers.length) {
      this.say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      stage.config.OnBuild = [];
      for (const trigger of triggers) {
        for (const t of parseDockerfile(trigger).instructions) {
          if (['onbuild', 'from', 'maintainer'].includes(t.cmd)) throw new InvalidParameterError(`${t.cmd.toUpperCase()} isn't allowed as an ONBUILD trigger`);
          await this.dispatch(stage, t, ctx, workDir);
        }
      }
    }
    return stage;
  }

  /** A local image, pulled when missing (as the classic builder does). */
  private async baseImage(ref: string, platform?: string): Promise<ImageRecord> {
    if (!this.opts.pull) {
      try {
        return await this.deps.images.resolve(ref);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    await this.deps.images.pull(ref, { platform, creds: this.credentialsFor(ref), progress: (p) => this.opts.progress(p), signal: this.opts.signal });
    return this.deps.images.resolve(ref);
  }

  /** The X-Registry-Config entry for the image's registry (keys as the CLI writes them). */
  private credentialsFor(ref: string): RegistryCredentials | undefined {
    const auth = this.opts.registryAuth ?? {};
    const domain = parseNormalizedNamed(ref).domain;
    const keys = domain === 'docker.io' ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io'] : [domain, `https://${domain}`, `http://${domain}`];
    for (const key of keys) if (auth[key]) return auth[key];
    return undefined;
  }

  /** An ARG before the first FROM: usable in FROM lines only. */
  private globalArg(ins: Instruction): void {
    for (const word of ins.args) {
      const [name, value] = this.argValue(word, Object.fromEntries(this.globalArgs));
      this.globalArgs.set(name, value);
    }
  }

  /** `NAME[=default]` → name and the value in effect (a --build-arg wins over the default). */
  private argValue(word: string, env: Record<string, string>): [string, string] {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const fallback = eq < 0 ? undefined : expandWord(word.slice(eq + 1), env, this.escapeToken);
    this.usedArgs.add(name);
    const given = this.opts.buildArgs[name];
    const value = given !== undefined && given !== null ? given : (fallback ?? this.globalArgs.get(name) ?? '');
    return [name, value];
  }

  // ---- the other instructions ----

  private async dispatch(stage: Stage, ins: Instruction, ctx: BuildContext, workDir: string): Promise<void> {
    // Flags only BuildKit knows: running the step without them would build something else.
    const allowed = CLASSIC_FLAGS[ins.cmd] ?? [];
    const buildkitOnly = Object.keys(ins.flags).find((f) => !allowed.includes(f));
    if (buildkitOnly) throw new InvalidParameterError(`the --${buildkitOnly} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
    const env = expansionEnv(stage);
    const args = expandInstructionArgs(ins, env, this.escapeToken);
    switch (ins.cmd) {
      case 'run':
        return runStep(this.step, stage, ins, args);
      case 'copy':
      case 'add':
        return copyStep(this.step, stage, ins, args, ctx, workDir, (from, dir) => this.stageFiles(from, dir));
      case 'workdir':
        return workdirStep(this.step, stage, args);
      case 'arg': {
        // The raw words: argValue expands a default itself.
        for (const word of ins.args) {
          const [name, value] = this.argValue(word, env);
          stage.args.set(name, value);
        }
        return this.commitConfig(stage, `ARG ${args.join(' ')}`);
      }
      case 'env': {
        const pairs: string[] = [];
        for (let i = 0; i + 1 < args.length; i += 2) pairs.push(`${args[i]}=${args[i + 1]}`);
        stage.config = { ...stage.config, Env: mergeEnv(stage.config.Env ?? [], pairs) };
        return this.commitConfig(stage, `ENV ${pairs.join(' ')}`);
      }
      case 'label': {
        const labels = { ...(stage.config.Labels ?? {}) };
        const shown: string[] = [];
        for (let i = 0; i + 1 < args.length; i += 2) {
          labels[args[i]] = args[i + 1];
          shown.push(`${args[i]}=${args[i + 1]}`);
        }
        stage.config = { ...stage.config, Labels: labels };
        return this.commitConfig(stage, `LABEL ${shown.join(' ')}`);
      }
      case 'cmd':
      case 'entrypoint': {
        const command = ins.json ? args : [...(stage.config.Shell ?? DEFAULT_SHELL), args[0] ?? ''];
        const key = ins.cmd === 'cmd' ? 'Cmd' : 'Entrypoint';
        stage.config = { ...stage.config, [key]: ins.json || args[0] ? command : null };
        // dockerd: an ENTRYPOINT drops the CMD inherited from the base image.
        if (ins.cmd === 'entrypoint' && !stage.cmdSet) stage.config.Cmd = null;
        if (ins.cmd === 'cmd') stage.cmdSet = true;
        return this.commitConfig(stage, `${ins.cmd.toUpperCase()} ${JSON.stringify(command)}`);
      }
      case 'shell':
        if (!ins.json || args.length === 0) throw new InvalidParameterError('SHELL requires the arguments to be in JSON form');
        stage.config = { ...stage.config, Shell: args };
        return this.commitConfig(stage, `SHELL ${JSON.stringify(args)}`);
      case 'user':
        if (args.length !== 1) throw new InvalidParameterError('USER requires exactly one argument');
        stage.config = { ...stage.config, User: args[0] };
        return this.commitConfig(stage, `USER ${args[0]}`);
      case 'maintainer':
        stage.config = { ...stage.config };
        stage.author = args.join(' ');
        return this.commitConfig(stage, `MAINTAINER ${args.join(' ')}`);
      case 'expose':
      case 'volume':
      case 'stopsignal':
      case 'healthcheck':
      case 'onbuild': {
        // Applied the way docker commit --change applies them.
        stage.config = applyInstruction(stage.config, ins, args);
        return this.commitConfig(stage, `${ins.cmd.toUpperCase()} ${this.metadataText(ins, args)}`);
      }
      default:
        throw new InvalidParameterError(`unknown instruction: ${ins.cmd.toUpperCase()}`);
    }
  }

  /** The instruction's arguments as its history line shows them (expanded where the builder expands). */
  private metadataText(ins: Instruction, args: string[]): string {
    const flags = Object.entries(ins.flags).map(([k, v]) => `--${k}=${v}`);
    if (ins.cmd === 'onbuild') return args[0] ?? '';
    if (ins.cmd === 'healthcheck') {
      if (args[0]?.toUpperCase() === 'NONE') return 'NONE';
      const command = ins.json ? JSON.stringify(args.slice(1)) : args.slice(1).join(' ');
      return [...flags, 'CMD', command].join(' ');
    }
    if (ins.json) return JSON.stringify(args);
    return args.join(' ');
  }

  // ---- steps that make images ----

  /** A config-only image: the step recorded as a `#(nop)` history entry. */
  private async commitConfig(stage: Stage, comment: string): Promise<void> {
    const createdBy = [...(stage.config.Shell ?? DEFAULT_SHELL), `${NOP} ${comment}`].join(' ');
    const key = this.cache.key(stage, createdBy);
    if (await this.cache.hit(stage, key, createdBy)) return;
    stage.imageId = await this.deps.images.commit({ parentId: stage.imageId, config: stage.config, createdBy, buildKey: key, author: stage.author });
    this.say(` ---> ${shortId(stage.imageId)}\n`);
  }

  /** The files of a previous stage (by name or index) or of an image, unpacked in the work dir. */
  private async stageFiles(from: string, workDir: string): Promise<string> {
    const stage = this.stages.find((s) => s.name === from.toLowerCase()) ?? (/^\d+$/.test(from) ? this.stages[Number(from)] : undefined);
    const imageId = stage ? stage.imageId : (await this.baseImage(from)).id;
    // Each image's files are unpacked once per build, whatever number of COPYs take from them.
    const dir = posix.join(workDir, `from-${createHash('sha256').update(imageId ?? 'scratch').digest('hex').slice(0, 16)}`);
    if (this.unpacked.has(dir)) return dir;
    this.unpacked.add(dir);
    await mkdir(dir, { recursive: true });
    if (!imageId) return dir; // scratch: nothing
    const { Id } = await this.deps.containers.create({ config: { Image: imageId, Cmd: [NOP], Entrypoint: [] }, hostConfig: { NetworkMode: 'none' } });
    try {
      const archive = await this.deps.containers.getArchive(Id, '/');
      // The archive names the root "./"-relative; keep owners and modes as they are.
      await extractLayer(archive.stream, dir, { fsTools: this.deps.fsTools, log: this.log, whiteouts: false, fresh: true });
    } finally {
      await this.deps.containers.remove(Id, { force: true, removeVolumes: true }).catch(() => undefined);
    }
    return dir;
  }

  private warnUnusedArgs(): void {
    const unused = Object.keys(this.opts.buildArgs).filter((a) => !this.usedArgs.has(a) && !PREDEFINED_ARGS.has(a)).sort();
    if (unused.length) this.say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
  }
}

/** A FROM line's stage name (`FROM image AS name`). */
function stageName(ins: Instruction): string | undefined {
  return ins.args.length === 3 ? ins.args[2] : undefined;
}

/** `repo[:tag]` → its parts (the tag may be absent). */
function splitTag(ref: string): { repo: string; tag?: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref };
}
