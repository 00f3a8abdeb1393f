/** Per-container watches on the monitor's exit file: one per running container. */
import type { ContainerEngineDeps, ExitWatch } from './container-deps';

export class ExitWatches {
  private readonly byContainer = new Map<string, ExitWatch>();

  constructor(private readonly watchExit: ContainerEngineDeps['watchExit']) {}

  /** Calls `onExit` once the monitor of `id` has written its exit file (replaces an older watch). */
  watch(id: string, exitDir: string, onExit: () => void): void {
    this.byContainer.get(id)?.close();
    this.byContainer.set(id, this.watchExit(exitDir, id, onExit));
  }

  close(id: string): void {
    this.byContainer.get(id)?.close();
    this.byContainer.delete(id);
  }

  closeAll(): void {
    for (const w of this.byContainer.values()) w.close();
    this.byContainer.clear();
  }
}
