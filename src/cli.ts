import { ConfigError, parseArgs, USAGE } from './config';
import { startDaemon, VERSION } from './daemon';

/** `berthd [flags]`: parse flags, start the daemon, stop cleanly on SIGTERM/SIGINT. */
export async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
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
