/**
 * The adapter for CNI plugins (the containernetworking reference plugins in `/usr/lib/cni`).
 * It plays the runtime's part of the CNI specification for a network configuration list: ADD
 * runs the plugins in order, each receiving the previous plugin's result as `prevResult`; DEL
 * runs them in reverse order and tries every plugin even when one fails. Capability arguments
 * (`portMappings`, `mac`, `ips`) go to a plugin in `runtimeConfig` only if it declares the
 * capability, as libcni does. A failing plugin prints `{code, msg, details}` on stdout; that
 * becomes a `CniPluginError` whose message is the plugin's own.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_COMMAND_ENV, ExternalCommandError, runCommand } from '../host/command';

/** The spec version Berth speaks; the Debian 1.1.1 plugins support 0.1.0 … 1.0.0. */
export const CNI_VERSION = '1.0.0';

export interface CniPluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** Capability arguments; each reaches only plugins that declare the capability. */
export interface CniRuntimeConfig {
  portMappings?: CniPortMapping[];
  mac?: string;
  ips?: string[];
}

export interface CniInvocation {
  containerId: string;
  netnsPath: string;
  ifname: string;
  runtimeConfig?: CniRuntimeConfig;
  /** CNI_ARGS pairs; `IgnoreUnknown=1` is always sent first. */
  args?: ReadonlyArray<readonly [string, string]>;
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIpConfig {
  interface?: number;
  address: string;
  gateway?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: { dst: string; gw?: string }[];
  dns?: unknown;
}

/** A plugin reported an error (CNI error codes: 1–99 spec-defined, ≥ 100 plugin-specific). */
export class CniPluginError extends ExternalCommandError {
  readonly plugin: string;
  readonly cniCode: number | null;
  readonly cniMessage: string;
  readonly details: string;

  constructor(
    plugin: string,
    base: ExternalCommandError,
    reported: { code: number | null; msg: string; details: string },
  ) {
    super(
      {
        program: base.program,
        argv: base.argv,
        exitCode: base.exitCode,
        signal: base.signal,
        stderr: base.stderr,
        message: `CNI plugin ${plugin} failed: ${reported.msg}${reported.details ? ` (${reported.details})` : ''}`,
      },
      { cause: base },
    );
    this.name = 'CniPluginError';
    this.plugin = plugin;
    this.cniCode = reported.code;
    this.cniMessage = reported.msg;
    this.details = reported.details;
  }
}

export interface CniOptions {
  /** Directory of the plugin binaries (CNI_PATH). */
  cniPath: string;
  /** Per-plugin timeout; a plugin that hangs is killed. */
  timeoutMs?: number;
}

type CniCommand = 'ADD' | 'DEL' | 'CHECK';

export class Cni {
  private readonly cniPath: string;
  private readonly timeoutMs: number;

  constructor(opts: CniOptions) {
    this.cniPath = opts.cniPath;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** ADD: runs the chain in order; returns the last plugin's result. */
  async add(list: CniConfList, inv: CniInvocation): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const plugin of list.plugins) {
      const out = await this.exec('ADD', list, plugin, inv, prev);
      prev = parseResult(plugin.type, out);
    }
    if (!prev) throw new Error(`CNI network ${list.name} has no plugins`);
    return prev;
  }

  /**
   * DEL: runs the chain in reverse. Every plugin runs even if an earlier one failed (so one
   * broken plugin does not leak the others' state); the first failure is thrown at the end.
   */
  async del(list: CniConfList, inv: CniInvocation): Promise<void> {
    let first: unknown;
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.exec('DEL', list, plugin, inv, undefined);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }

  private async exec(
    command: CniCommand,
    list: CniConfList,
    plugin: CniPluginConf,
    inv: CniInvocation,
    prevResult: CniResult | undefined,
  ): Promise<string> {
    const program = this.pluginPath(plugin.type);
    // Checked first: a clear message, and no spawn of a missing binary (whose kill timer would
    // otherwise stay armed for the whole timeout).
    await access(program, constants.X_OK).catch(() => {
      throw new Error(`CNI plugin ${plugin.type} not found in ${this.cniPath}`);
    });
    try {
      const { stdout } = await runCommand(program, [], {
        input: JSON.stringify(pluginConfig(list, plugin, inv, prevResult)),
        env: this.env(command, inv),
        timeoutMs: this.timeoutMs,
      });
      return stdout;
    } catch (err) {
      throw toPluginError(plugin.type, err);
    }
  }

  private pluginPath(type: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(type)) throw new Error(`invalid CNI plugin type: ${type}`);
    return join(this.cniPath, type);
  }

  private env(command: CniCommand, inv: CniInvocation): Record<string, string> {
    const args: string[] = ['IgnoreUnknown=1', ...(inv.args ?? []).map(([k, v]) => `${k}=${v}`)];
    return {
      // Plugins run iptables, ip6tables and their IPAM plugin: they need a PATH and CNI_PATH.
      PATH: DEFAULT_COMMAND_ENV.PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: inv.containerId,
      CNI_NETNS: inv.netnsPath,
      CNI_IFNAME: inv.ifname,
      CNI_PATH: this.cniPath,
      CNI_ARGS: args.join(';'),
    };
  }
}

/** The stdin of one plugin: its own entry plus name, version, prevResult and its capabilities. */
function pluginConfig(
  list: CniConfList,
  plugin: CniPluginConf,
  inv: CniInvocation,
  prevResult: CniResult | undefined,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, enabled] of Object.entries(plugin.capabilities ?? {})) {
    const value = inv.runtimeConfig?.[cap as keyof CniRuntimeConfig];
    if (enabled && value !== undefined) runtimeConfig[cap] = value;
  }
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (prevResult) conf.prevResult = prevResult;
  return conf;
}

function parseResult(plugin: string, stdout: string): CniResult {
  try {
    const value = JSON.parse(stdout) as CniResult;
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value;
  } catch (err) {
    throw new Error(`CNI plugin ${plugin} printed an invalid result: ${stdout.slice(0, 200)}`, { cause: err });
  }
}

/**
 * The one place plugin failures are interpreted: the CNI error object is printed on stdout
 * (read from `err.stdout` when the command runner provides it, else from stderr).
 */
function toPluginError(plugin: string, err: unknown): unknown {
  if (!(err instanceof ExternalCommandError)) return err;
  const candidates = [(err as { stdout?: unknown }).stdout, err.stderr];
  for (const text of candidates) {
    if (typeof text !== 'string' || !text.trim().startsWith('{')) continue;
    try {
      const obj = JSON.parse(text) as { code?: unknown; msg?: unknown; details?: unknown };
      if (typeof obj.msg === 'string') {
        return new CniPluginError(plugin, err, {
          code: typeof obj.code === 'number' ? obj.code : null,
          msg: obj.msg,
          details: typeof obj.details === 'string' ? obj.details : '',
        });
      }
    } catch {
      /* not the CNI error object */
    }
  }
  return new CniPluginError(plugin, err, { code: null, msg: err.message, details: '' });
}

/** host-local's wording when a requested static address is taken. */
export function isAddressUnavailable(err: unknown): boolean {
  return err instanceof CniPluginError && /requested IP address .* is not available/.test(err.cniMessage);
}

/** host-local's wording when the range set is exhausted. */
export function isRangeExhausted(err: unknown): boolean {
  return err instanceof CniPluginError && /no IP addresses available in range set/.test(err.cniMessage);
}
