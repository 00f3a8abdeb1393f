/**
 * Stand-in for a configured runtime whose binary is gone (uninstalled, or a daemon.json entry
 * pointing nowhere). Every call fails with UnavailableError, so the engine can still list and
 * remove the containers that were created with it.
 */
import { UnavailableError } from '../errors';
import type { ExecProcessOptions, OciRuntime, OciState, RuntimeResources } from './types';

export class MissingRuntime implements OciRuntime {
  readonly globalArgs: readonly string[] = Object.freeze([]);

  constructor(
    readonly name: string,
    /** The path that was configured (or searched for) and not found; empty if unknown. */
    readonly path: string,
  ) {}

  get directPath(): string {
    return this.path;
  }

  /** Why no call can succeed; also for callers that hand the runtime to another program (conmon). */
  error(): UnavailableError {
    const where = this.path ? ` (${this.path} not found)` : '';
    return new UnavailableError(`unknown or invalid runtime name: ${this.name}${where}`);
  }

  private fail(): Promise<never> {
    return Promise.reject(this.error());
  }

  create(_id: string, _bundle: string, _pidFile: string): Promise<void> {
    return this.fail();
  }
  start(_id: string): Promise<void> {
    return this.fail();
  }
  state(_id: string): Promise<OciState | undefined> {
    return this.fail();
  }
  kill(_id: string, _signal: string, _all?: boolean): Promise<void> {
    return this.fail();
  }
  delete(_id: string, _force?: boolean): Promise<void> {
    return this.fail();
  }
  exec(_id: string, _opts: ExecProcessOptions): Promise<void> {
    return this.fail();
  }
  pause(_id: string): Promise<void> {
    return this.fail();
  }
  resume(_id: string): Promise<void> {
    return this.fail();
  }
  update(_id: string, _resources: RuntimeResources): Promise<void> {
    return this.fail();
  }
}
