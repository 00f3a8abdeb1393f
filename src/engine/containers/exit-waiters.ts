import type { WaitResult } from './types';

type Kind = 'exit' | 'removed';
type Waiter = { kind: Kind; resolve: (r: WaitResult) => void };

/**
 * Clients waiting for a container to exit or to be removed (`docker wait`, `docker run`'s
 * next-exit/removed waits, stop's wait for the exit). Only events after `add` wake a waiter.
 */
export class ExitWaiters {
  private readonly byContainer = new Map<string, Set<Waiter>>();

  add(id: string, kind: Kind): { promise: Promise<WaitResult>; cancel(): void } {
    let set = this.byContainer.get(id);
    if (!set) this.byContainer.set(id, (set = new Set()));
    let waiter!: Waiter;
    const promise = new Promise<WaitResult>((resolve) => (waiter = { kind, resolve }));
    set.add(waiter);
    return { promise, cancel: () => set!.delete(waiter) };
  }

  notify(id: string, kind: Kind, result: WaitResult): void {
    const set = this.byContainer.get(id);
    for (const w of set ?? []) {
      if (w.kind !== kind) continue;
      set!.delete(w);
      w.resolve(result);
    }
  }

  /** Drops the waiters of a removed container (after `notify(id, 'removed')`). */
  forget(id: string): void {
    this.byContainer.delete(id);
  }
}
