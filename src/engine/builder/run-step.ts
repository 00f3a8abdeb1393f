/**
 * RUN: the command runs in a container of the stage's image (build args in scope in its
 * environment), its output streamed as the build's, and what it changed is committed.
 */
import type { Instruction } from '../dockerfile/instructions';
import { envKey, mergeEnv } from '../env-vars';
import { shortId } from '../ids';
import { InvalidParameterError } from '../../errors';
import { BuildRunError } from './build-ports';
import { DEFAULT_SHELL, type Stage, type StepContext } from './build-stage';

const STDERR_COLOR = '\x1b[91m';
const COLOR_RESET = '\x1b[0m';

export async function runStep(b: StepContext, stage: Stage, ins: Instruction, args: string[]): Promise<void> {
  if (!stage.imageId) throw new InvalidParameterError('RUN needs a base image with a filesystem (FROM scratch has none)');
  const command = ins.json ? args : [...(stage.config.Shell ?? DEFAULT_SHELL), args[0] ?? ''];
  // Build args in scope are in the command's environment, and part of its history and cache key.
  const argEnv = [...stage.args].filter(([name]) => !(stage.config.Env ?? []).some((e) => envKey(e) === name)).map(([k, v]) => `${k}=${v}`);
  const createdBy = argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ${command.join(' ')}` : command.join(' ');
  const key = b.cache.key(stage, createdBy);
  if (await b.cache.hit(stage, key, createdBy)) return;
  const { Id } = await b.containers.create({
    config: { ...stage.config, Image: stage.imageId, Cmd: command, Entrypoint: [], Env: mergeEnv(stage.config.Env ?? [], argEnv), Healthcheck: undefined, OnBuild: null },
    hostConfig: { NetworkMode: b.opts.networkMode || 'default', ExtraHosts: b.opts.extraHosts ?? [] },
  });
  b.say(` ---> Running in ${shortId(Id)}\n`);
  let ok = false;
  const cancel = () => void b.containers.remove(Id, { force: true, removeVolumes: true }).catch(() => undefined);
  b.opts.signal?.addEventListener('abort', cancel, { once: true });
  try {
    await b.containers.start(Id);
    for await (const batch of b.containers.logs(Id, { stdout: true, stderr: true, follow: true, timestamps: false, since: 0, until: 0 }).batches) {
      for (const rec of batch) {
        // dockerd writes the step's stderr in red (`ESC[91m` … `ESC[0m`), each chunk on its own.
        b.say(rec.stream === 'stderr' ? `${STDERR_COLOR}${rec.text}${COLOR_RESET}` : rec.text);
      }
    }
    const exit = await b.containers.wait(Id, 'not-running');
    if (exit.StatusCode !== 0) throw new BuildRunError(`The command '${command.join(' ')}' returned a non-zero code: ${exit.StatusCode}`, exit.StatusCode);
    stage.imageId = await b.containers.commit(Id, { imageConfig: stage.config, createdBy, buildKey: key, pause: false, author: stage.author });
    ok = true;
  } finally {
    b.opts.signal?.removeEventListener('abort', cancel);
    await removeIntermediate(b, Id, ok);
  }
  b.say(` ---> ${shortId(stage.imageId)}\n`);
}

async function removeIntermediate(b: StepContext, id: string, succeeded: boolean): Promise<void> {
  if (!(succeeded ? b.opts.rm || b.opts.forceRm : b.opts.forceRm)) return;
  await b.containers.remove(id, { force: true, removeVolumes: true }).catch((err) => b.log.warn({ err, container: id }, 'cannot remove intermediate container'));
  if (succeeded) b.say(`Removing intermediate container ${shortId(id)}\n`);
}
