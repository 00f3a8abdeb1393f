/**
 * The rootless parent: berthd started by an ordinary user runs itself again inside rootlesskit,
 * which makes a user namespace (mapped from the user's subordinate ids), a mount namespace and a
 * network namespace reached through slirp4netns, with the flags dockerd-rootless.sh passes.
 * The child finds rootlesskit's state dir (api.sock for port forwarding) in STATE_DIR_ENV.
 * The parent only relays signals and exits with the child's status.
 */
import { spawn } from 'node:child_process';
import { STATE_DIR_ENV, type RootlessLayout } from './layout';

/** rootlesskit's own flags (checked against rootlesskit 1.1.0's --help). */
export function rootlessKitFlags(layout: RootlessLayout): string[] {
  return [
    '--net=slirp4netns',
    '--mtu=65520',
    '--slirp4netns-sandbox=auto',
    '--slirp4netns-seccomp=auto',
    // Containers reach a registry on the host's loopback through 10.0.2.2.
    '--disable-host-loopback=false',
    '--port-driver=builtin',
    '--copy-up=/etc',
    '--copy-up=/run',
    '--propagation=rslave',
    `--state-dir=${layout.stateDir}`,
  ];
}

/** The command line that starts this same daemon again: node, its flags, the script, our args. */
export function selfCommand(argv: string[]): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1], ...argv];
}

/** Runs `berthd argv` inside rootlesskit and exits with its status; never returns. */
export function reexecInRootlessKit(layout: RootlessLayout, rootlesskit: string, argv: string[]): void {
  const child = spawn(rootlesskit, [...rootlessKitFlags(layout), ...selfCommand(argv)], {
    stdio: 'inherit',
    env: { ...process.env, [STATE_DIR_ENV]: layout.stateDir },
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (err) => {
    process.stderr.write(`berthd: cannot start rootlesskit: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + signalNumber(signal) : 1)));
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}
