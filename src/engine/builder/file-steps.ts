/**
 * The steps that write files into the image: COPY, ADD (with its URLs and local archives) and
 * WORKDIR (which creates the directory). What is copied and how it is keyed comes from
 * copy-sources.ts; these steps put it into a container of the stage's image and commit it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, utimes } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError } from '../../errors';
import type { Instruction } from '../dockerfile/instructions';
import { expandWord } from '../dockerfile/shell-lexer';
import { shortId } from '../ids';
import { httpGetOk } from '../registry/http';
import type { BuildContext } from './build-context';
import { DEFAULT_SHELL, expansionEnv, NOP, pathChain, type Stage, type StepContext } from './build-stage';
import { contentKey, copyEntries, dirsTar, localArchives, tarOf } from './copy-sources';

/** The files of a previous stage (by name or index) or of an image, unpacked under `workDir`. */
export type StageFiles = (from: string, workDir: string) => Promise<string>;

/**
 * COPY and ADD: from the context, a previous stage or an image (`--from`), ADD also from URLs and
 * local archives; through a container of the stage's image, or straight into a layer on scratch.
 */
export async function copyStep(b: StepContext, stage: Stage, ins: Instruction, args: string[], ctx: BuildContext, workDir: string, stageFiles: StageFiles): Promise<void> {
  const what = ins.cmd.toUpperCase();
  if (args.length < 2) throw new InvalidParameterError(`${what} requires at least two arguments`);
  const sources = args.slice(0, -1);
  const dest = args[args.length - 1];
  const chown = ins.flags.chown ? expandWord(ins.flags.chown, expansionEnv(stage), b.escapeToken) : undefined;
  const from = ins.flags.from;
  const root = from !== undefined ? await stageFiles(from, workDir) : ctx.root;
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
  const containerOf = async (imageId: string) => (container ??= (await b.containers.create({ config: { Image: imageId, Cmd: [NOP], Entrypoint: [], User: chown ?? '' }, hostConfig: { NetworkMode: 'none' } })).Id);
  let ok = false;
  try {
    const isDir = async (path: string) => (image ? await b.containers.statPath(await containerOf(image), path).then((st) => (st.mode & 0x80000000) !== 0, () => false) : false);
    const workdir = stage.config.WorkingDir ?? '/';
    const entries = plain.length ? await copyEntries({ root, sources: plain, dest, workdir, isDir, ignore: from === undefined ? ctx.ignore : undefined, what }) : [];
    if (downloads) entries.push(...(await copyEntries({ root: downloads.root, sources: downloads.names, dest, workdir, isDir, what })));
    const kind = archives.length === 0 && entries.length === 1 && !entries[0].stat.isDirectory() ? 'file' : sources.length > 1 ? 'multi' : archives.length ? 'file' : 'dir';
    const hash = createHash('sha256').update(await contentKey(entries));
    for (const a of archives) hash.update(`${a.source}\0${a.digest}`);
    const comment = `${what} ${kind}:${hash.digest('hex')} in ${dest} `;
    const createdBy = [...(stage.config.Shell ?? DEFAULT_SHELL), `${NOP}${comment}`].join(' ');
    const key = b.cache.key(stage, `${createdBy}|${chown ?? ''}`);
    if (await b.cache.hit(stage, key, createdBy)) return;
    const destDir = posix.resolve(workdir || '/', dest);
    if (image) {
      const target = await containerOf(image);
      if (entries.length) await b.containers.putArchive(target, tarOf(entries), { path: '/', noOverwriteDirNonDir: false, copyUIDGID: chown !== undefined, trusted: true });
      if (archives.length) await makeDirs(b, target, destDir);
      for (const a of archives) await b.containers.putArchive(target, await a.open(), { path: destDir, noOverwriteDirNonDir: false, copyUIDGID: false });
      stage.imageId = await b.containers.commit(target, { imageConfig: stage.config, createdBy, buildKey: key, pause: false, author: stage.author });
    } else {
      if (chown && !/^\d+(:\d+)?$/.test(chown)) throw new InvalidParameterError(`unable to convert uid/gid chown string to host mapping: no passwd file in a scratch image to look up ${chown}`);
      const [uid, gid] = chown ? chown.split(':').map(Number) : [0, 0];
      // On scratch the layer is written directly: an archive is the layer when it goes to / alone.
      if (archives.length && (archives.length > 1 || entries.length || destDir !== '/')) throw new InvalidParameterError(`${what} of an archive onto a scratch image needs / as its only destination here`);
      const layer = archives.length ? await archives[0].open() : tarOf(entries, { uid, gid: gid ?? uid });
      stage.imageId = await b.images.commit({ layer, config: stage.config, createdBy, buildKey: key, author: stage.author });
    }
    ok = true;
  } finally {
    if (container) await b.containers.remove(container, { force: true, removeVolumes: true }).catch((err) => b.log.warn({ err, container }, 'cannot remove copy container'));
  }
  if (ok) b.say(` ---> ${shortId(stage.imageId!)}\n`);
}

/** Creates the directories of `dir` the container lacks (root-owned, 0755), as dockerd does. */
async function makeDirs(b: StepContext, container: string, dir: string): Promise<void> {
  const missing: string[] = [];
  for (const p of pathChain(dir)) if (!(await b.containers.statPath(container, `/${p}`).then(() => true, () => false))) missing.push(p);
  if (missing.length) await b.containers.putArchive(container, dirsTar(missing), { path: '/', noOverwriteDirNonDir: false, copyUIDGID: false, trusted: true });
}

/** WORKDIR: the config's working directory, created (owned by root) in the step's layer when missing. */
export async function workdirStep(b: StepContext, stage: Stage, args: string[]): Promise<void> {
  if (args.length !== 1) throw new InvalidParameterError('WORKDIR requires exactly one argument');
  const dir = posix.resolve(stage.config.WorkingDir || '/', args[0]);
  stage.config = { ...stage.config, WorkingDir: dir };
  const createdBy = [...(stage.config.Shell ?? DEFAULT_SHELL), `${NOP}WORKDIR ${dir}`].join(' ');
  const key = b.cache.key(stage, createdBy);
  if (await b.cache.hit(stage, key, createdBy)) return;
  // dockerd creates a missing working directory (owned by root) in the step's layer.
  if (!stage.imageId) {
    stage.imageId = await b.images.commit({ layer: dirsTar(pathChain(dir)), config: stage.config, createdBy, buildKey: key, author: stage.author });
  } else {
    const { Id } = await b.containers.create({ config: { Image: stage.imageId, Cmd: [NOP], Entrypoint: [] }, hostConfig: { NetworkMode: 'none' } });
    try {
      await makeDirs(b, Id, dir);
      stage.imageId = await b.containers.commit(Id, { imageConfig: stage.config, createdBy, buildKey: key, pause: false, author: stage.author });
    } finally {
      await b.containers.remove(Id, { force: true, removeVolumes: true }).catch(() => undefined);
    }
  }
  b.say(` ---> ${shortId(stage.imageId)}\n`);
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
