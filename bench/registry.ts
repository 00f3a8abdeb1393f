/**
 * The local registry the pull benchmarks pull from (Debian's docker-registry on 127.0.0.1, as
 * the integration tests start it) and the timed pulls themselves.
 */
import { existsSync } from 'node:fs';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../test/integration/registry-fixture';
import type { BenchDaemon } from './daemons';
import { printComparison } from './report';
import type { Session } from './session';

/** Why the registry cannot run here, or undefined when it can. */
export function registryMissing(): string | undefined {
  return existsSync(REGISTRY_BIN) ? undefined : `${REGISTRY_BIN} is missing (Debian: apt-get install docker-registry)`;
}

/**
 * Starts a registry on 127.0.0.1 that the session's cleanup stops (also after a failure or a
 * signal) unless its stop() was called before; a second stop() does nothing.
 */
export async function startBenchRegistry(session: Session): Promise<TestRegistry> {
  const missing = registryMissing();
  if (missing) throw new Error(missing);
  const registry = await startRegistry();
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= registry.stop());
  session.atCleanup(stop);
  console.log(`registry on ${registry.domain}`);
  return { ...registry, stop };
}

export interface PullHooks {
  /** Untimed, before each pull: removes what the pull is to fetch. */
  before?: (d: BenchDaemon) => Promise<void>;
  /** Untimed, after each pull. */
  after?: (d: BenchDaemon) => Promise<void>;
}

/**
 * `docker pull <ref>`, the CLI's wall clock from spawn to exit, `runs` per daemon after one
 * warm-up pull, alternating; the hooks run untimed around each pull. Prints the comparison
 * under `title` and returns the samples.
 */
export async function pullTimes(session: Session, ref: string, runs: number, title: string, hooks: PullHooks): Promise<Map<string, number[]>> {
  const pulls = await session.alternate(runs, 1, 'pull', async (d) => {
    await hooks.before?.(d);
    const ms = (await d.dockerOk(['pull', ref], 300_000)).ms;
    await hooks.after?.(d);
    return ms;
  });
  printComparison(`docker pull ${ref} (${title}): ${runs} runs per daemon, alternating`, session.daemons, pulls, session.about);
  return pulls;
}
