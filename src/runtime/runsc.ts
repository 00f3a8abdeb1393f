/**
 * What gVisor's runsc needs beyond the OCI command line it shares with runc, in one place. The
 * registry detects a runsc binary (`--version`) and gives its OciCli these traits; the engine
 * hands runsc the same spec and network namespace as every other runtime.
 *
 * Measured with Debian's runsc 0.0~20221219 on Linux 6.18:
 * - Network. runsc's own network stack (netstack, its default `--network=sandbox`) runs the
 *   sandbox in the spec's network namespace from `create` on, and at `start` copies that
 *   namespace's interfaces, addresses and routes into the sandbox, removing the addresses from
 *   the host side. So netstack may only be given a namespace that is the container's alone, and
 *   it must be configured by `start` (Berth attaches the endpoints before it calls start). For
 *   the other network modes runsc needs its own mode, set per container with the annotation
 *   `dev.gvisor.flag.network` (honoured with `--allow-flag-override`):
 *   - no network namespace in the spec (`--network host`): netstack would make an empty
 *     namespace of its own; runsc's host mode uses the daemon's network instead, as runc does;
 *   - a namespace without a path (`--network none`): runsc makes it, with its loopback down,
 *     and netstack skips down interfaces, so the container would have no loopback; runsc's
 *     `none` mode gives the sandbox a loopback of its own;
 *   - another container's namespace (`--network container:x`, and x's may be the host's):
 *     netstack would take x's addresses away from x; host mode shares x's network as runc does.
 * - Netstack keeps the container's loopback inside the sandbox: the namespace's iptables rules
 *   that send 127.0.0.11 to the embedded DNS server never see its queries (gVisor issues 115,
 *   7523; dockerd's user networks have no DNS under runsc). Berth's DNS server listens on each
 *   network's gateway, so these containers get the gateway as their nameserver (ownLoopback).
 * - runsc refuses to copy the host's own namespace. Releases before 2024-08 tell it by
 *   /proc/sys/net/core/rmem_default being visible, which newer kernels show in every network
 *   namespace (gVisor issue 10704), so every start fails with "cannot run with network enabled
 *   in root network namespace". Where both are true, `start` runs in a private mount namespace in
 *   which /proc/sys/net is hidden (see startWrapperScript). This is safe because of the rule
 *   above: netstack is only ever given a namespace Berth made for that one container.
 */
import { runCommand } from '../host/command';
import { shQuote, writeWrapperScript } from './wrapper-script';
import type { RuntimeLog, RuntimeSpec, SpecContext } from './types';

/** runsc's global flag that lets `dev.gvisor.flag.<name>` annotations override its flags. */
export const FLAG_OVERRIDE_ARG = '--allow-flag-override';
export const NETWORK_ANNOTATION = 'dev.gvisor.flag.network';
/** Releases from this date on no longer mistake rmem_default for the root namespace's. */
const FIXED_ROOT_NETNS_CHECK = 20240801;

export interface RunscProbe {
  version: string;
  /** This runsc's root-namespace check misfires on this kernel: `start` needs the wrapper. */
  needsStartWrapper: boolean;
}

export interface StartWrapperTools {
  unshare: string;
  sh: string;
  mount: string;
}

/** What an OciCli for runsc gets (see the header); placed before a configuration's runtimeArgs. */
export interface RunscCliOptions {
  globalArgs: string[];
  addToSpec: (spec: RuntimeSpec, ctx: SpecContext) => void;
  startPath?: string;
  ownLoopback: true;
}

/**
 * The OciCli options for `binary` when it is runsc, else undefined. The start wrapper is written
 * to `<wrapperDir>/<name>-start` where it is needed.
 */
export async function runscCliOptions(
  name: string,
  binary: string,
  ctx: { wrapperDir: string; tools: () => Promise<StartWrapperTools | undefined>; env?: Readonly<Record<string, string>>; log?: RuntimeLog },
): Promise<RunscCliOptions | undefined> {
  const tools = await ctx.tools();
  const probe = await probeRunsc(binary, tools, ctx.env);
  if (!probe) return undefined;
  if (!tools) ctx.log?.warn({ runtime: name }, 'unshare, sh or mount not found: runsc start cannot be wrapped where its root-namespace check misfires');
  const startPath = probe.needsStartWrapper && tools ? await writeStartWrapper(ctx.wrapperDir, name, binary, tools) : undefined;
  ctx.log?.info({ runtime: name, version: probe.version, ...(startPath ? { startWrapper: startPath } : {}) }, 'gVisor runtime');
  return { globalArgs: [FLAG_OVERRIDE_ARG], addToSpec: addRunscSpec, ownLoopback: true, ...(startPath ? { startPath } : {}) };
}

/** `<binary> --version` says runsc: its version and whether its start needs the wrapper here. */
export async function probeRunsc(binary: string, tools: StartWrapperTools | undefined, env?: Readonly<Record<string, string>>): Promise<RunscProbe | undefined> {
  let stdout: string;
  try {
    ({ stdout } = await runCommand(binary, ['--version'], { env, timeoutMs: 10_000 }));
  } catch {
    return undefined;
  }
  const m = /^runsc version (\S+)/.exec(stdout);
  if (!m) return undefined;
  const version = m[1];
  const date = Number(/(?:^|[^0-9])(20\d{6})(?:[^0-9]|$)/.exec(version)?.[1] ?? Number.NaN);
  const oldCheck = date < FIXED_ROOT_NETNS_CHECK;
  return { version, needsStartWrapper: oldCheck && tools !== undefined && (await kernelShowsRmemDefaultEverywhere(tools, env)) };
}

/** Does a fresh network namespace show /proc/sys/net/core/rmem_default (Linux 6.x does)? */
async function kernelShowsRmemDefaultEverywhere(tools: StartWrapperTools, env?: Readonly<Record<string, string>>): Promise<boolean> {
  try {
    await runCommand(tools.unshare, ['--net', tools.sh, '-c', 'test -e /proc/sys/net/core/rmem_default'], { env, timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The runsc network mode for a container's spec (see the header), as an annotation; a
 * namespace of the container's own keeps whatever runsc was configured with.
 */
export function addRunscSpec(spec: RuntimeSpec, ctx: SpecContext): void {
  const netns = spec.linux?.namespaces?.find((n) => n.type === 'network');
  const mode = !netns ? 'host' : !netns.path ? 'none' : ctx.sharedNetns ? 'host' : undefined;
  if (mode) spec.annotations = { ...spec.annotations, [NETWORK_ANNOTATION]: mode };
}

/** The script Berth runs instead of `runsc start` where the root-namespace check misfires. */
export function startWrapperScript(runscPath: string, tools: StartWrapperTools): string {
  const inner = `${shQuote(tools.mount)} -t tmpfs -o ro,size=4k,mode=0555 berth-hidden /proc/sys/net && exec "$0" "$@"`;
  return [
    '#!/bin/sh',
    '# Generated by Berth (src/runtime/runsc.ts). This runsc takes a visible',
    '# /proc/sys/net/core/rmem_default for the root network namespace, and this kernel shows it in',
    '# every namespace: run `runsc start` where /proc/sys/net is hidden.',
    `exec ${shQuote(tools.unshare)} --mount --propagation private ${shQuote(tools.sh)} -c ${shQuote(inner)} ${shQuote(runscPath)} "$@"`,
    '',
  ].join('\n');
}

/** Write `<dir>/<name>-start` and return its path. */
export function writeStartWrapper(dir: string, name: string, runscPath: string, tools: StartWrapperTools): Promise<string> {
  return writeWrapperScript(dir, `${name}-start`, startWrapperScript(runscPath, tools));
}
