/**
 * Runs external programs from a worker thread. Node's spawn forks the calling thread's process
 * synchronously, ~4 ms each for a daemon of Berth's size; 20 containers starting at once cost
 * hundreds of such calls, and on the main thread every one of them delayed every API request.
 * The worker is started on first use and ends after a quiet spell, so an idle daemon keeps no
 * second thread (and its memory) around. A busy one is replaced every RETIRE_AFTER_JOBS jobs: V8
 * grows a heap well past what it holds between full collections, and a fresh isolate gives that
 * slack back (~10 jobs per container lifecycle; a new worker costs ~20 ms of its own thread).
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CommandJob, FromWorker, JobOutcome, ToWorker } from './command-thread-protocol';

const IDLE_EXIT_MS = 15_000;
const RETIRE_AFTER_JOBS = 500;

interface Pending {
  worker: Worker;
  resolve(outcome: JobOutcome): void;
  reject(err: Error): void;
}

export class CommandThread {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer?: NodeJS.Timeout;
  private jobsOnWorker = 0;

  constructor(
    private readonly script = join(__dirname, 'command-thread-worker.js'),
    private readonly retireAfterJobs = RETIRE_AFTER_JOBS,
  ) {}

  /** Runs the job; aborting kills the program (SIGKILL) and the job reports how it ended. */
  submit(job: CommandJob, signal?: AbortSignal): Promise<JobOutcome> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<JobOutcome>((resolve, reject) => {
      const onAbort = () => worker.postMessage({ type: 'abort', id } satisfies ToWorker);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        if (worker !== this.worker && !this.runsJobs(worker)) void worker.terminate();
        if (this.pending.size === 0) this.idle();
      };
      this.pending.set(id, {
        worker,
        resolve: (o) => (settle(), resolve(o)),
        reject: (e) => (settle(), reject(e)),
      });
      worker.postMessage({ type: 'job', id, job } satisfies ToWorker);
      if (signal?.aborted) onAbort();
    });
  }

  /** Ends the worker now (daemon shutdown); running jobs fail. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private ensureWorker(): Worker {
    clearTimeout(this.idleTimer);
    if (this.worker && this.jobsOnWorker >= this.retireAfterJobs) this.retire(this.worker);
    if (!this.worker) {
      // A small heap: the thread only forks and collects output; V8's default young generation
      // alone would add ~16 MB to the daemon's resident memory.
      const w = new Worker(this.script, { resourceLimits: { maxYoungGenerationSizeMb: 2 } });
      w.on('message', (m: FromWorker) => this.pending.get(m.id)?.resolve(m.outcome));
      w.on('error', (err) => this.lost(w, err));
      w.on('exit', (code) => this.lost(w, new Error(`command thread exited with code ${code}`)));
      this.worker = w;
      this.jobsOnWorker = 0;
    }
    this.jobsOnWorker++;
    // A busy worker keeps the daemon alive like any pending child process would.
    this.worker.ref();
    return this.worker;
  }

  /** New jobs go to a fresh worker; this one ends once its running jobs are answered. */
  private retire(w: Worker): void {
    this.worker = undefined;
    if (!this.runsJobs(w)) void w.terminate();
  }

  private runsJobs(w: Worker): boolean {
    for (const p of this.pending.values()) if (p.worker === w) return true;
    return false;
  }

  private idle(): void {
    const w = this.worker;
    if (!w) return;
    w.unref();
    this.idleTimer = setTimeout(() => {
      if (this.worker === w && this.pending.size === 0) {
        this.worker = undefined;
        void w.terminate();
      }
    }, IDLE_EXIT_MS);
    this.idleTimer.unref();
  }

  private lost(w: Worker, err: Error): void {
    if (this.worker === w) this.worker = undefined;
    // Jobs of a worker that ended (terminate() included) can never be answered.
    for (const p of [...this.pending.values()]) if (p.worker === w) p.reject(err);
  }
}

/** The daemon's one command thread. */
export const commandThread = new CommandThread();
