import { ConfigError, parseArgs, socketPath, USAGE, type LayoutDefaults } from './config';
import { startDaemon, VERSION } from './daemon';
import { prepareChildRun, rootlessRole, type RootlessRole } from './rootless/child';
import { RootlessError, rootlessLayout } from './rootless/layout';
import { checkNotRunning, rootlessPreflight } from './rootless/preflight';
import { reexecInRootlessKit } from './rootless/reexec';

/** `berthd [flags]`: parse flags, start the daemon, stop cleanly on SIGTERM/SIGINT. */
export async function main(argv: string[]): Promise<void> {
  let parsed;
  let role: RootlessRole = 'rootful';
  let layout;
  try {
    role = rootlessRole(process.env, process.getuid?.() ?? 0);
    // --help and --version answer without a rootless environment.
    const informational = argv.some((a) => ['-h', '--help', '-v', '--version'].includes(a));
    layout = role === 'rootful' || informational ? undefined : rootlessLayout(process.env);
    parsed = parseArgs(argv, layout && layoutDefaults(layout));
  } catch (err) {
    if (err instanceof RootlessError) {
      process.stderr.write(`berthd: ${err.message}\n`);
      process.exit(1);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`berthd: ${err.message}\n\n${USAGE}`);
      process.exit(125);
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`Berth version ${VERSION}\n`);
    return;
  }
  if (role === 'parent' && layout) {
    // An ordinary user: the daemon runs inside rootlesskit (src/rootless/reexec.ts).
    try {
      const programs = rootlessPreflight(layout, { env: process.env });
      for (const host of parsed.config.hosts) await checkNotRunning(socketPath(host));
      reexecInRootlessKit(layout, programs.rootlesskit, argv);
    } catch (err) {
      if (!(err instanceof RootlessError)) throw err;
      process.stderr.write(`berthd: ${err.message}\n`);
      process.exit(1);
    }
    return;
  }
  if (role === 'child') await prepareChildRun();
  let daemon;
  try {
    daemon = await startDaemon(parsed.config);
  } catch (err) {
    process.stderr.write(`berthd: failed to start daemon: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    daemon.log.info({ signal }, 'shutting down');
    daemon.stop().then(
      () => process.exit(0),
      (err) => {
        daemon.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function layoutDefaults(layout: ReturnType<typeof rootlessLayout>): LayoutDefaults {
  const { host, dataRoot, execRoot, pidFile, configFile, stateDir } = layout;
  return { host, dataRoot, execRoot, pidFile, configFile, rootless: { stateDir } };
}
