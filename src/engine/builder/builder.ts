/**
 * `docker build` with the classic builder (POST /build; `[moby] builder/dockerfile`): the
 * Dockerfile's instructions run in order, each making an image on top of the previous one.
 * RUN runs the command in a container and commits what it changed; COPY and ADD write the
 * sources into a container (or straight into a layer on `scratch`) and commit; the other
 * instructions only change the config. Every step's image remembers its step (the build
 * cache): a later build reuses the child of the same parent made by the same step.
 * Output is dockerd's: `Step N/M : …`, ` ---> <id>`, the RUN output, `Successfully built …`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, utimes } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidParameterError, NotFoundError } from '../../errors';
import { httpGetOk } from '../registry/http';
import { parseDockerfile, type Instruction } from '../dockerfile/instructions';
import { expandInstructionArgs, expandWord } from '../dockerfile/shell-lexer';
import { envKey, envObject, mergeEnv } from '../env-vars';
import type { FsTools } from '../../host/fs-tools';
import { extractLayer } from '../images/layer-extract';
import { shortId } from '../ids';
import { applyInstruction } from '../images/config-changes';
import { parseNormalizedNamed, repoTagReference } from '../images/reference';
import type { RegistryCredentials } from '../registry/registry-client';
import type { CommitImageOptions } from '../images/image-service';
import type { ContainerImageConfig, ImageRecord } from '../images/types';
import type { CreateContainerOptions, LogRecord, LogsOptions, WaitCondition, WaitResult } from '../containers/types';
import type { PutArchiveOptions, ArchiveStream } from '../containers/archive/container-archive';
import type { PathStat } from '../containers/archive/container-path';
import type { CommitOptions } from '../containers/container-commit';
import { unpackContext, type BuildContext } from './build-context';
import { allowedLocalHit, layerOfHistoryEntry, matchHistory, resolveCacheSources, type CacheSource } from './cache-from';
import { contentKey, copyEntries, dirsTar, localArchives, tarOf } from './copy-sources';
import type { ProgressMessage } from '../progress';

/** What the builder needs from the image service. */
export interface BuildImages {
  resolve(ref: string): Promise<ImageRecord>;
  pull(ref: string, opts: { platform?: string; creds?: RegistryCredentials; progress: (p: ProgressMessage) => void; signal?: AbortSignal }): Promise<string[]>;
  commit(opts: CommitImageOptions): Promise<string>;
  setParent(id: string, parentId: string): Promise<void>;
  commitCachedStep(opts: { parentId?: string; sourceId: string; historyIndex: number; layerDiffId?: string; config: ContainerImageConfig; buildKey: string; author?: string }): Promise<string>;
  buildCache(parentId: string | undefined, buildKey: string): Promise<string | undefined>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  workDir(prefix: string): Promise<string>;
  removeWorkDir(dir: string): Promise<void>;
}

/** What the builder needs from the container service. */
export interface BuildContainers {
  create(opts: CreateContainerOptions): Promise<{ Id: string }>;
  start(id: string): Promise<void>;
  wait(id: string, condition: WaitCondition): Promise<WaitResult>;
  logs(id: string, opts: LogsOptions): { batches: AsyncIterable<LogRecord[]> };
  remove(id: string, opts: { force: boolean; removeVolumes: boolean }): Promise<void>;
  putArchive(id: string, body: Readable, opts: PutArchiveOptions): Promise<void>;
  getArchive(id: string, path: string): Promise<ArchiveStream>;
  statPath(id: string, path: string): Promise<PathStat>;
  commit(id: string, opts: CommitOptions): Promise<string>;
}

export interface BuildOptions {
  /** The Dockerfile's path in the context. */
  dockerfile: string;
  /** Names to tag the result with (`repo[:tag]`). */
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  noCache: boolean;
  /** Remove intermediate containers after successful steps (default true). */
  rm: boolean;
  /** Remove them even when a step fails. */
  forceRm: boolean;
  quiet: boolean;
  target?: string;
  networkMode?: string;
  /** Pull base images even when they are present (`--pull`). */
  pull?: boolean;
  /** Credentials by registry (`X-Registry-Config`) for pulling base images. */
  registryAuth?: Record<string, RegistryCredentials>;
  /** `host:ip` lines added to the /etc/hosts of RUN's containers (`--add-host`). */
  extraHosts?: string[];
  /**
   * `--cache-from`: when given (even empty), only steps these images were built with count as
   * cache, as with dockerd's classic builder; otherwise every image of the local cache does.
   */
  cacheFrom?: string[];
  progress(p: ProgressMessage): void;
  log?: Logger;
  /** The client went away: the build stops (a running step's container is killed). */
  signal?: AbortSignal;
}

/** A RUN whose command failed: errorDetail carries its exit code, as dockerd's does. */
export class BuildRunError extends InvalidParameterError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Stage {
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

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The flags the classic builder takes, per instruction (FROM's are checked in from()). */
const CLASSIC_FLAGS: Record<string, string[]> = {
  copy: ['from', 'chown'],
  add: ['chown'],
  healthcheck: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};
const NOP = '#(nop) ';
const STDERR_COLOR = '\x1b[91m';
const COLOR_RESET = '\x1b[0m';

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
  /** With --cache-from: the source images (see cache-from.ts); undefined without. */
  private cacheSources?: CacheSource[];

  constructor(
    private readonly deps: { images: BuildImages; containers: BuildContainers; fsTools: FsTools; log: Logger },
    private readonly opts: BuildOptions,
  ) {
    this.log = opts.log ?? deps.log;
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
      if (this.opts.cacheFrom) this.cacheSources = await resolveCacheSources(this.opts.cacheFrom, (ref) => this.deps.images.resolve(ref), this.log);
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
    const env = this.expansionEnv(stage);
    const args = expandInstructionArgs(ins, env, this.escapeToken);
    switch (ins.cmd) {
      case 'run':
        return this.run(stage, ins, args);
      case 'copy':
      case 'add':
        return this.copy(stage, ins, args, ctx, workDir);
      case 'workdir':
        return this.workdir(stage, args);
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

  /** The variables `$NAME` expands to: the stage's ENV, then its ARGs (ENV wins, as in dockerd). */
  private expansionEnv(stage: Stage): Record<string, string> {
    return { ...Object.fromEntries(stage.args), ...envObject(stage.config.Env ?? []) };
  }

  // ---- steps that make images ----

  /** A config-only image: the step recorded as a `#(nop)` history entry. */
  private async commitConfig(stage: Stage, comment: string): Promise<void> {
    const createdBy = [...(stage.config.Shell ?? DEFAULT_SHELL), `${NOP} ${comment}`].join(' ');
    const key = this.cacheKey(stage, createdBy);
    if (await this.fromCache(stage, key, createdBy)) return;
    stage.imageId = await this.deps.images.commit({ parentId: stage.imageId, config: stage.config, createdBy, buildKey: key, author: stage.author });
    this.say(` ---> ${shortId(stage.imageId)}\n`);
  }

  private async run(stage: Stage, ins: Instruction, args: string[]): Promise<void> {
    if (!stage.imageId) throw new InvalidParameterError('RUN needs a base image with a filesystem (FROM scratch has none)');
    const command = ins.json ? args : [...(stage.config.Shell ?? DEFAULT_SHELL), args[0] ?? ''];
    // Build args in scope are in the command's environment, and part of its history and cache key.
    const argEnv = [...stage.args].filter(([name]) => !(stage.config.Env ?? []).some((e) => envKey(e) === name)).map(([k, v]) => `${k}=${v}`);
    const createdBy = argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ${command.join(' ')}` : command.join(' ');
    const key = this.cacheKey(stage, createdBy);
    if (await this.fromCache(stage, key, createdBy)) return;
    const { Id } = await this.deps.containers.create({
      config: { ...stage.config, Image: stage.imageId, Cmd: command, Entrypoint: [], Env: mergeEnv(stage.config.Env ?? [], argEnv), Healthcheck: undefined, OnBuild: null },
      hostConfig: { NetworkMode: this.opts.networkMode || 'default', ExtraHosts: this.opts.extraHosts ?? [] },
    });
    this.say(` ---> Running in ${shortId(Id)}\n`);
    let ok = false;
    const cancel = () => void this.deps.containers.remove(Id, { force: true, removeVolumes: true }).catch(() => undefined);
    this.opts.signal?.addEventListener('abort', cancel, { once: true });
    try {
      await this.deps.containers.start(Id);
      for await (const batch of this.deps.containers.logs(Id, { stdout: true, stderr: true, follow: true, timestamps: false, since: 0, until: 0 }).batches) {
        for (const rec of batch) {
          // dockerd writes the step's stderr in red (`ESC[91m` … `ESC[0m`), each chunk on its own.
          this.say(rec.stream === 'stderr' ? `${STDERR_COLOR}${rec.text}${COLOR_RESET}` : rec.text);
        }
      }
      const exit = await this.deps.containers.wait(Id, 'not-running');
      if (exit.StatusCode !== 0) throw new BuildRunError(`The command '${command.join(' ')}' returned a non-zero code: ${exit.StatusCode}`, exit.StatusCode);
      stage.imageId = await this.deps.containers.commit(Id, { imageConfig: stage.config, createdBy, buildKey: key, pause: false, author: stage.author });
      ok = true;
    } finally {
      this.opts.signal?.removeEventListener('abort', cancel);
      await this.removeIntermediate(Id, ok);
    }
    this.say(` ---> ${shortId(stage.imageId)}\n`);
  }

  private async removeIntermediate(id: string, succeeded: boolean): Promise<void> {
    if (!(succeeded ? this.opts.rm || this.opts.forceRm : this.opts.forceRm)) return;
    await this.deps.containers.remove(id, { force: true, removeVolumes: true }).catch((err) => this.log.warn({ err, container: id }, 'cannot remove intermediate container'));
    if (succeeded) this.say(`Removing intermediate container ${shortId(id)}\n`);
  }

  private async copy(stage: Stage, ins: Instruction, args: string[], ctx: BuildContext, workDir: string): Promise<void> {
    const what = ins.cmd.toUpperCase();
    if (args.length < 2) throw new InvalidParameterError(`${what} requires at least two arguments`);
    const sources = args.slice(0, -1);
    const dest = args[args.length - 1];
    const chown = ins.flags.chown ? expandWord(ins.flags.chown, this.expansionEnv(stage), this.escapeToken) : undefined;
    const from = ins.flags.from;
    const root = from !== undefined ? await this.stageFiles(from, workDir) : ctx.root;
    // ADD unpacks local tar archives (plain or gzip) into the destination instead of copying them.
    const urls = ins.cmd === 'add' ? sources.filter(isUrl) : [];
    const local = sources.filter((s) => !urls.includes(s));
    const archives = ins.cmd === 'add' && from === undefined ? await localArchives(root, local) : [];
    const plain = local.filter((s) => !archives.some((a) => a.source === s));
    const destIsDir = dest.endsWith('/') || dest.endsWith('/.');
    if (urls.length && sources.length > 1 && !destIsDir) throw new InvalidParameterError(`When using ${what} with more than one source file, the destination must be a directory and end with a /`);
    // ADD <url>: downloaded each time (its content decides the cache), mode 0600 as dockerd writes it.
    const downloads = urls.length ? await downloadAll(urls, posix.join(workDir, `downloads-${randomBytes(4).toString('hex')}`)) : undefined;
    // A container of the current image answers "is the destination a directory?" and takes the
    // files; made only when needed (a cache hit needs none).
    let container: string | undefined;
    const image = stage.imageId;
    const containerOf = async (imageId: string) => (container ??= (await this.deps.containers.create({ config: { Image: imageId, Cmd: [NOP], Entrypoint: [], User: chown ?? '' }, hostConfig: { NetworkMode: 'none' } })).Id);
    let ok = false;
    try {
      const isDir = async (path: string) => (image ? await this.deps.containers.statPath(await containerOf(image), path).then((st) => (st.mode & 0x80000000) !== 0, () => false) : false);
      const workdir = stage.config.WorkingDir ?? '/';
      const entries = plain.length ? await copyEntries({ root, sources: plain, dest, workdir, isDir, ignore: from === undefined ? ctx.ignore : undefined, what }) : [];
      if (downloads) entries.push(...(await copyEntries({ root: downloads.root, sources: downloads.names, dest, workdir, isDir, what })));
      const kind = archives.length === 0 && entries.length === 1 && !entries[0].stat.isDirectory() ? 'file' : sources.length > 1 ? 'multi' : archives.length ? 'file' : 'dir';
      const hash = createHash('sha256').update(await contentKey(entries));
      for (const a of archives) hash.update(`${a.source}\0${a.digest}`);
      const comment = `${what} ${kind}:${hash.digest('hex')} in ${dest} `;
      const createdBy = [...(stage.config.Shell ?? DEFAULT_SHELL), `${NOP}${comment}`].join(' ');
      const key = this.cacheKey(stage, `${createdBy}|${chown ?? ''}`);
      if (await this.fromCache(stage, key, createdBy)) return;
      const destDir = posix.resolve(workdir || '/', dest);
      if (image) {
        const target = await containerOf(image);
        if (entries.length) await this.deps.containers.putArchive(target, tarOf(entries), { path: '/', noOverwriteDirNonDir: false, copyUIDGID: chown !== undefined, trusted: true });
        if (archives.length) await this.makeDirs(target, destDir);
        for (const a of archives) await this.deps.containers.putArchive(target, await a.open(), { path: destDir, noOverwriteDirNonDir: false, copyUIDGID: false });
        stage.imageId = await this.deps.containers.commit(target, { imageConfig: stage.config, createdBy, buildKey: key, pause: false, author: stage.author });
      } else {
        if (chown && !/^\d+(:\d+)?$/.test(chown)) throw new InvalidParameterError(`unable to convert uid/gid chown string to host mapping: no passwd file in a scratch image to look up ${chown}`);
        const [uid, gid] = chown ? chown.split(':').map(Number) : [0, 0];
        // On scratch the layer is written directly: an archive is the layer when it goes to / alone.
        if (archives.length && (archives.length > 1 || entries.length || destDir !== '/')) throw new InvalidParameterError(`${what} of an archive onto a scratch image needs / as its only destination here`);
        const layer = archives.length ? await archives[0].open() : tarOf(entries, { uid, gid: gid ?? uid });
        stage.imageId = await this.deps.images.commit({ layer, config: stage.config, createdBy, buildKey: key, author: stage.author });
      }
      ok = true;
    } finally {
      if (container) await this.deps.containers.remove(container, { force: true, removeVolumes: true }).catch((err) => this.log.warn({ err, container }, 'cannot remove copy container'));
    }
    if (ok) this.say(` ---> ${shortId(stage.imageId!)}\n`);
  }

  /** Creates the directories of `dir` the container lacks (root-owned, 0755), as dockerd does. */
  private async makeDirs(container: string, dir: string): Promise<void> {
    const missing: string[] = [];
    for (const p of pathChain(dir)) if (!(await this.deps.containers.statPath(container, `/${p}`).then(() => true, () => false))) missing.push(p);
    if (missing.length) await this.deps.containers.putArchive(container, dirsTar(missing), { path: '/', noOverwriteDirNonDir: false, copyUIDGID: false, trusted: true });
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

  private async workdir(stage: Stage, args: string[]): Promise<void> {
    if (args.length !== 1) throw new InvalidParameterError('WORKDIR requires exactly one argument');
    const dir = posix.resolve(stage.config.WorkingDir || '/', args[0]);
    stage.config = { ...stage.config, WorkingDir: dir };
    const createdBy = [...(stage.config.Shell ?? DEFAULT_SHELL), `${NOP}WORKDIR ${dir}`].join(' ');
    const key = this.cacheKey(stage, createdBy);
    if (await this.fromCache(stage, key, createdBy)) return;
    // dockerd creates a missing working directory (owned by root) in the step's layer.
    if (!stage.imageId) {
      stage.imageId = await this.deps.images.commit({ layer: dirsTar(pathChain(dir)), config: stage.config, createdBy, buildKey: key, author: stage.author });
    } else {
      const { Id } = await this.deps.containers.create({ config: { Image: stage.imageId, Cmd: [NOP], Entrypoint: [] }, hostConfig: { NetworkMode: 'none' } });
      try {
        await this.makeDirs(Id, dir);
        stage.imageId = await this.deps.containers.commit(Id, { imageConfig: stage.config, createdBy, buildKey: key, pause: false, author: stage.author });
      } finally {
        await this.deps.containers.remove(Id, { force: true, removeVolumes: true }).catch(() => undefined);
      }
    }
    this.say(` ---> ${shortId(stage.imageId)}\n`);
  }

  // ---- the build cache ----

  /** The step's identity: its history line and the config it ends with. */
  private cacheKey(stage: Stage, step: string): string {
    return createHash('sha256').update(JSON.stringify({ step, config: stage.config, author: stage.author ?? '' })).digest('hex');
  }

  /** The step's image from the build cache (`createdBy`: its history line), if there is one. */
  private async fromCache(stage: Stage, key: string, createdBy: string): Promise<boolean> {
    if (this.opts.noCache) return false;
    let cached = await this.deps.images.buildCache(stage.imageId, key);
    const sources = this.cacheSources;
    if (sources && cached && !allowedLocalHit(sources, cached)) cached = undefined;
    if (sources && !cached) {
      const parent = stage.imageId ? await this.deps.images.resolve(stage.imageId) : undefined;
      const match = matchHistory(sources, parent, createdBy);
      if (match?.kind === 'image') {
        cached = match.id;
        if (stage.imageId) await this.deps.images.setParent(cached, stage.imageId);
      } else if (match) {
        const layerDiffId = layerOfHistoryEntry(match.source, match.historyIndex);
        cached = await this.deps.images.commitCachedStep({ parentId: stage.imageId, sourceId: match.source.id, historyIndex: match.historyIndex, layerDiffId, config: stage.config, buildKey: key, author: stage.author });
        // Later steps follow the same source (dockerd's rule: no jumping between sources).
        this.cacheSources = sources.filter((s) => s.image.id === match.source.id);
      }
    }
    if (!cached) return false;
    stage.imageId = cached;
    this.say(` ---> Using cache\n ---> ${shortId(cached)}\n`);
    return true;
  }

  private warnUnusedArgs(): void {
    const unused = Object.keys(this.opts.buildArgs).filter((a) => !this.usedArgs.has(a) && !PREDEFINED_ARGS.has(a)).sort();
    if (unused.length) this.say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
  }
}

const isUrl = (source: string) => /^https?:\/\//i.test(source);

/** Downloads ADD's URLs into `root` as files named after each URL's last path segment. */
async function downloadAll(urls: string[], root: string): Promise<{ root: string; names: string[] }> {
  await mkdir(root, { recursive: true });
  const names: string[] = [];
  for (const url of urls) {
    const name = posix.basename(new URL(url).pathname);
    if (!name || name === '/') throw new InvalidParameterError(`cannot determine filename from url: ${url}`);
    const res = await httpGetOk(url);
    const path = posix.join(root, name);
    await pipeline(res.body, createWriteStream(path, { mode: 0o600 }));
    await chmod(path, 0o600);
    const modified = Date.parse(res.header('last-modified') ?? '');
    if (!Number.isNaN(modified)) await utimes(path, new Date(modified), new Date(modified));
    names.push(name);
  }
  return { root, names };
}

/** `/a/b/c` → `a`, `a/b`, `a/b/c`: a directory and its parents, top first. */
function pathChain(dir: string): string[] {
  return dir.split('/').filter(Boolean).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
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
