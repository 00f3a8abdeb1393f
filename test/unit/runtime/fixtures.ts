/**
 * Test fixtures for the runtime layer: a busybox rootfs (Debian's busybox-static, no image store),
 * one bundle per container with a spec from buildOciSpec, and a sandbox that tracks everything a
 * test starts so it can be torn down even when the test fails.
 */
import { minimalSpecInput } from '../../fixtures/spec-input';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciSpec, type SpecInput } from '../../../src/engine/containers/oci-spec';
import { BERTH_RUNTIME_NAME, BERTH_RUNTIME_PATH } from '../../../src/runtime/builtin/runtime-entry';
import { detectCgroupLayout, type CgroupLayout } from '../../../src/runtime/cgroups';
import { ConmonMonitor } from '../../../src/runtime/conmon';
import { watchExit } from '../../../src/runtime/exit-watcher';
import { RuntimeRegistry, type RuntimeRegistryConfig } from '../../../src/runtime/registry';
import type { MonitorPaths, OciRuntime } from '../../../src/runtime/types';

export const BUSYBOX = '/bin/busybox';
/** Found by the registry itself; any other runtime is configured as `--add-runtime <name>=<path>` would. */
const BUILT_IN = ['runc', 'crun', BERTH_RUNTIME_NAME];
const APPLETS = ['sh', 'cat', 'echo', 'sleep', 'tty', 'stty', 'true', 'false', 'id', 'ls', 'read', 'head', 'wc'];

export interface Sandbox {
  dir: string;
  layout: CgroupLayout;
  /** What the sandbox's runtime registry was made from (a child process can make the same). */
  registryConfig: RuntimeRegistryConfig;
  runtime: OciRuntime;
  monitor: ConmonMonitor;
  /** A fresh container bundle (not launched); the id is unique per call. */
  bundle(args: string[], opts?: Partial<SpecInput>): Promise<{ id: string; paths: MonitorPaths }>;
  /** Resolves with the exit code once the exit file appears. */
  waitExit(id: string, paths: MonitorPaths, timeoutMs?: number): Promise<number>;
  logLines(paths: MonitorPaths): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function makeSandbox(runtimeName: string): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), `berth-rt-${runtimeName}-`));
  const layout = detectCgroupLayout();
  const installed = BUILT_IN.includes(runtimeName) ? undefined : installedPath(runtimeName);
  const registryConfig: RuntimeRegistryConfig = {
    execRoot: join(dir, 'exec'),
    cgroupLayout: layout,
    ...(installed ? { configured: { [runtimeName]: { path: installed } } } : {}),
  };
  const registry = await RuntimeRegistry.create(registryConfig);
  const runtime = registry.get(runtimeName);
  const monitor = new ConmonMonitor({ execRoot: join(dir, 'exec'), launchTimeoutMs: 30_000 });
  const rootfs = await makeRootfs(join(dir, 'rootfs'));
  const cgroupParent = `/berth-test-${runtimeName}-${process.pid}`;
  const created: Array<{ id: string; paths: MonitorPaths }> = [];

  return {
    dir,
    layout,
    registryConfig,
    runtime,
    monitor,
    async bundle(args, opts = {}) {
      const id = `berth-test-${runtimeName}-${randomBytes(6).toString('hex')}`;
      const cdir = join(dir, 'containers', id);
      const bundle = join(cdir, 'bundle');
      await mkdir(bundle, { recursive: true });
      const spec = buildOciSpec(
        minimalSpecInput(id, {
          rootfs,
          args,
          env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${id.slice(0, 12)}`],
          shmSize: 64 * 1024 * 1024,
          cgroupsPath: `${cgroupParent}/${id}`,
          cgroupVersion: layout === 'v2' ? 2 : 1,
          ...opts,
        }),
      );
      // What the engine's starter does before it writes a bundle.
      runtime.prepareSpec?.(id, spec, { sharedNetns: false });
      await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
      const paths: MonitorPaths = {
        bundle,
        logPath: join(cdir, 'container.log'),
        exitDir: join(cdir, 'exits'),
        pidFile: join(cdir, 'container.pid'),
        monitorPidFile: join(cdir, 'conmon.pid'),
      };
      created.push({ id, paths });
      return { id, paths };
    },
    waitExit(id, paths, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          w.close();
          reject(new Error(`container ${id} did not exit within ${timeoutMs} ms`));
        }, timeoutMs);
        const w = watchExit(paths.exitDir, id, (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
    async logLines(paths) {
      const text = await readFile(paths.logPath, 'utf8').catch(() => '');
      // "<RFC3339Nano> <stream> <F|P> <text>" -> "<stream> <F|P> <text>"
      return text.split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(' ') + 1));
    },
    async cleanup() {
      for (const { id, paths } of created) {
        await runtime.kill(id, 'SIGKILL', true).catch(() => undefined);
        await runtime.delete(id, true).catch(() => undefined);
        await killMonitor(paths.monitorPidFile);
        await monitor.release(paths).catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
      await removeCgroupParent(cgroupParent);
    },
  };
}

async function makeRootfs(rootfs: string): Promise<string> {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', join(rootfs, 'bin', a));
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\n');
  return rootfs;
}

export async function killMonitor(monitorPidFile: string): Promise<void> {
  const pid = Number((await readFile(monitorPidFile, 'utf8').catch(() => '')).trim());
  if (!pid) return;
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  if (comm.trim() !== 'conmon') return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

async function removeCgroupParent(parent: string): Promise<void> {
  const roots = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];
  for (const name of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'net_cls', 'net_prio', 'perf_event', 'hugetlb', 'rdma', 'misc']) {
    roots.push(join('/sys/fs/cgroup', name));
  }
  for (const root of roots) {
    const p = join(root, parent);
    if (existsSync(p)) await rmdir(p).catch(() => undefined);
  }
}

export function runtimeInstalled(name: string): boolean {
  return installedPath(name) !== undefined;
}

function installedPath(name: string): string | undefined {
  // Berth's own runtime is installed when `npm run build` built its executor.
  if (name === BERTH_RUNTIME_NAME) return existsSync(BERTH_RUNTIME_PATH) ? BERTH_RUNTIME_PATH : undefined;
  return ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
}

export function canRunContainers(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(BUSYBOX)) return `needs ${BUSYBOX} (busybox-static)`;
  if (!existsSync('/usr/bin/conmon')) return 'needs conmon';
  return undefined;
}
