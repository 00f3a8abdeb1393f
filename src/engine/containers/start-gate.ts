/**
 * Bounds how many container starts run their heavy part at once. Each start forks a monitor, a
 * runtime and its init, mounts a rootfs and sets up networking; twenty at once put ~35 runnable
 * processes on two cores, and the API's thread waited in that queue with them. Starts beyond the
 * limit wait their turn, but never longer than `maxWaitMs`: a slow start (a hung hook, a large
 * mount) must not hold the others back indefinitely.
 */
import { availableParallelism } from 'node:os';

export class StartGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limit = 2 * availableParallelism(),
    private readonly maxWaitMs = 2000,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    const admitted = this.running < this.limit || (await this.turn());
    if (admitted) this.running++;
    try {
      return await work();
    } finally {
      if (admitted) {
        this.running--;
        this.waiting.shift()?.();
      }
    }
  }

  /** Waits for a free slot (true) or for maxWaitMs (false: the start goes ahead uncounted). */
  private turn(): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      }, this.maxWaitMs);
      this.waiting.push(wake);
    });
  }
}
