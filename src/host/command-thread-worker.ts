/**
 * The worker side of command-thread.ts: spawns the programs the daemon asks for and reports how
 * they ended. It runs in its own thread because fork+exec of a ~100 MB process takes milliseconds
 * of the calling thread each time, which, with 20 containers starting, stalled the API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parentPort } from 'node:worker_threads';
import type { CommandJob, JobOutcome, ToWorker } from './command-thread-protocol';
import { CONTAINER_NICE, HELPER_NICE, setThreadPriority, withPriority } from './thread-priority';

const port = parentPort!;
const running = new Map<number, { child: ChildProcess; aborted: boolean }>();

// Helpers (runc state/kill, CNI plugins, iptables) yield the CPU to the API thread.
setThreadPriority(HELPER_NICE);

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'abort') {
    const job = running.get(msg.id);
    if (job) {
      job.aborted = true;
      job.child.kill('SIGKILL');
    }
    return;
  }
  try {
    if (msg.job.kind === 'run') run(msg.id, msg.job);
    else launch(msg.id, msg.job);
  } catch (e) {
    finish(msg.id, { kind: 'not-started', message: (e as Error).message, code: (e as NodeJS.ErrnoException).code });
  }
});

function finish(id: number, outcome: JobOutcome): void {
  running.delete(id);
  port.postMessage({ id, outcome });
}

/** Run to completion, collecting output. */
function run(id: number, job: Extract<CommandJob, { kind: 'run' }>): void {
  const child = spawn(job.program, job.argv, {
    env: job.env,
    cwd: job.cwd,
    stdio: [job.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const state = { child, aborted: false };
  running.set(id, state);
  const timer = job.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), job.timeoutMs) : undefined;
  const out = collect(child.stdout, job.maxOutputBytes);
  const err = collect(child.stderr, job.maxOutputBytes);
  let spawnError: string | undefined;
  child.on('error', (e) => {
    spawnError = e.message;
    // A program that never started emits no 'close' on every Node version: settle here.
    if (child.pid === undefined) {
      clearTimeout(timer);
      finish(id, { kind: 'not-started', message: e.message, code: (e as NodeJS.ErrnoException).code });
    }
  });
  if (job.input !== undefined && child.stdin) {
    child.stdin.on('error', () => undefined); // the program may exit without reading its input
    child.stdin.end(job.input);
  }
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    if (child.pid === undefined) return;
    const error = state.aborted ? 'The operation was aborted' : spawnError;
    finish(id, { kind: 'exited', code, signal, stdout: out(), stderr: err(), error });
  });
}

/**
 * Start a monitor (conmon) detached and report the first line it writes on fd 3, or its stderr
 * when it closes without one. The monitor runs at the daemon's own priority: it is on the
 * critical path of `docker start`.
 */
function launch(id: number, job: Extract<CommandJob, { kind: 'launch' }>): void {
  const child = withPriority(CONTAINER_NICE, () =>
    spawn(job.program, job.argv, { cwd: job.cwd, detached: true, env: job.env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] }),
  );
  running.set(id, { child, aborted: false });
  const syncPipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  let syncText = '';
  let stderr = '';
  let exitCode: number | null = null;
  let reported = false;
  const report = (outcome: JobOutcome) => {
    if (reported) return;
    reported = true;
    syncPipe.destroy();
    child.stderr?.destroy();
    finish(id, outcome);
  };
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.on('error', (e) => report({ kind: 'not-started', message: e.message, code: (e as NodeJS.ErrnoException).code }));
  child.on('exit', (code) => (exitCode = code));
  child.on('close', () => report({ kind: 'closed', code: exitCode, stderr }));
  syncPipe.on('error', () => undefined);
  syncPipe.on('data', (d: Buffer) => {
    syncText += d.toString('utf8');
    const nl = syncText.indexOf('\n');
    if (nl >= 0) report({ kind: 'synced', line: syncText.slice(0, nl), stderr });
  });
}

function collect(stream: NodeJS.ReadableStream | null, limit: number): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream?.on('data', (chunk: Buffer) => {
    if (size >= limit) return;
    chunks.push(chunk.subarray(0, limit - size));
    size += chunk.length;
  });
  return () => Buffer.concat(chunks).toString('utf8');
}
