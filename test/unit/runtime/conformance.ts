/**
 * The shared conformance suite every OCI runtime runs under conmon (runc.test.ts, crun.test.ts,
 * runsc.test.ts, later the built-in runtime). Skips only when a needed binary is missing, and the
 * cases a runtime genuinely does differently, each with the reason its test file gives.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExternalCommandError } from '../../../src/host/command';
import { runtimeErrorKind } from '../../../src/runtime/oci-cli';
import type { AttachSession, LaunchOptions, MonitorPaths } from '../../../src/runtime/types';
import { holdsFor, waitFor } from '../../integration/wait';
import { canRunContainers, makeSandbox, runtimeInstalled, type Sandbox } from './fixtures';

/** An attach session's output so far (`seen`), and all of it once the monitor closes it (`done`). */
function collect(session: AttachSession): { seen: { out: string; err: string }; done: Promise<{ out: string; err: string }> } {
  const seen = { out: '', err: '' };
  const done = new Promise<{ out: string; err: string }>((resolve) => {
    session.onData((stream, data) => {
      if (stream === 1) seen.out += data.toString('utf8');
      else seen.err += data.toString('utf8');
    });
    session.onClose(() => resolve(seen));
  });
  return { seen, done };
}

/** Collect an attach session's output until the monitor closes it. */
const drain = (session: AttachSession) => collect(session).done;

/** The cases a runtime may skip, each with the reason the runtime genuinely differs. */
export interface ConformanceDifferences {
  update?: string;
  tty?: string;
  missingCommandAtCreate?: string;
  duplicateCreate?: string;
}

export function runtimeConformance(runtimeName: string, differs: ConformanceDifferences = {}): void {
  const skip = !runtimeInstalled(runtimeName) ? `${runtimeName} is not installed` : canRunContainers();

  describe(`OCI runtime conformance: ${runtimeName} under conmon`, { skip, concurrency: true }, () => {
    let sb: Sandbox;
    before(async () => {
      sb = await makeSandbox(runtimeName);
    });
    after(async () => {
      await sb?.cleanup();
    });

    const launch = (id: string, paths: MonitorPaths, opts: Partial<LaunchOptions> = {}) =>
      sb.monitor.launch({ id, runtime: sb.runtime, paths, tty: false, stdin: false, stdinOnce: false, ...opts });

    it('runs echo: created -> running/stopped, log line, exit 0, delete leaves no state', async () => {
      const { id, paths } = await sb.bundle(['echo', 'hello']);
      const { pid, monitorPid } = await launch(id, paths);
      assert.ok(pid > 0 && monitorPid > 0);
      assert.equal((await sb.runtime.state(id))?.status, 'created');
      assert.equal((await sb.runtime.state(id))?.pid, pid);
      assert.equal(await sb.monitor.readExitCode(id, paths.exitDir), undefined);
      await sb.runtime.start(id);
      assert.equal(await sb.waitExit(id, paths), 0);
      assert.equal(await sb.monitor.readExitCode(id, paths.exitDir), 0);
      assert.equal((await sb.runtime.state(id))?.status, 'stopped');
      assert.deepEqual(await sb.logLines(paths), ['stdout F hello']);
      await sb.runtime.delete(id);
      assert.equal(await sb.runtime.state(id), undefined);
      assert.equal(existsSync(join(sb.dir, 'exec', 'runtime-state', runtimeName, id)), false);
    });

    it('records the exit code of sh -c "exit 3" and stderr lines', async () => {
      const { id, paths } = await sb.bundle(['sh', '-c', 'echo oops >&2; exit 3']);
      await launch(id, paths);
      await sb.runtime.start(id);
      assert.equal(await sb.waitExit(id, paths), 3);
      assert.deepEqual(await sb.logLines(paths), ['stderr F oops']);
    });

    it('kill: SIGKILL gives 137; SIGTERM to all processes ends a shell waiting on sleep with 143', async () => {
      const a = await sb.bundle(['sleep', '100']);
      await launch(a.id, a.paths);
      await sb.runtime.start(a.id);
      assert.equal((await sb.runtime.state(a.id))?.status, 'running');
      // As pid 1 of its namespace, sleep has no SIGTERM handler, so SIGTERM from outside is ignored
      // (as under dockerd, where `docker stop` then escalates to SIGKILL).
      await sb.runtime.kill(a.id, 'SIGKILL');
      assert.equal(await sb.waitExit(a.id, a.paths), 137);
      assert.equal((await sb.runtime.state(a.id))?.status, 'stopped');

      const b = await sb.bundle(['sh', '-c', 'sleep 100 & echo forked; wait $!']);
      await launch(b.id, b.paths);
      await sb.runtime.start(b.id);
      // The shell (pid 1 inside, so deaf to SIGTERM) must have forked sleep, which is not. Told
      // by the shell itself: the container's processes need not be host processes (gVisor).
      await waitFor(async () => (await sb.logLines(b.paths)).includes('stdout F forked'), { what: 'the shell to fork sleep' });
      await sb.runtime.kill(b.id, 'SIGTERM', true);
      assert.equal(await sb.waitExit(b.id, b.paths), 143);
    });

    it('pause and resume a running container; conflicting calls are ConflictError', async () => {
      const { id, paths } = await sb.bundle(['sleep', '100']);
      await launch(id, paths);
      await sb.runtime.start(id);
      await assert.rejects(sb.runtime.start(id), { name: 'ConflictError' });
      await sb.runtime.pause(id);
      assert.equal((await sb.runtime.state(id))?.status, 'paused');
      await sb.runtime.resume(id);
      assert.equal((await sb.runtime.state(id))?.status, 'running');
      await sb.runtime.kill(id, 'SIGKILL');
      assert.equal(await sb.waitExit(id, paths), 137);
      await assert.rejects(sb.runtime.kill(id, 'SIGKILL'), (err: Error) => err.name === 'ConflictError' || /not running/.test(err.message));
    });

    it('update a running container', { skip: differs.update ?? false }, async () => {
      const { id, paths } = await sb.bundle(['sleep', '100']);
      await launch(id, paths);
      await sb.runtime.start(id);
      await sb.runtime.update(id, { pidsLimit: 50 });
      await sb.runtime.kill(id, 'SIGKILL');
      assert.equal(await sb.waitExit(id, paths), 137);
      await assert.rejects(sb.runtime.kill(id, 'SIGKILL'), (err: Error) => err.name === 'ConflictError' || /not running/.test(err.message));
    });

    it('restarts under the same id and paths: fresh exit code, the log keeps both runs', async () => {
      const { id, paths } = await sb.bundle(['sh', '-c', 'echo run; exit 7']);
      await launch(id, paths);
      await sb.runtime.start(id);
      assert.equal(await sb.waitExit(id, paths), 7);
      await sb.runtime.delete(id);
      await sb.monitor.release(paths);
      await launch(id, paths);
      assert.equal(await sb.monitor.readExitCode(id, paths.exitDir), undefined);
      await sb.runtime.start(id);
      assert.equal(await sb.waitExit(id, paths), 7);
      assert.deepEqual(await sb.logLines(paths), ['stdout F run', 'stdout F run']);
    });

    it("puts the container's processes in the spec's cgroupsPath", async () => {
      const { id, paths } = await sb.bundle(['sleep', '100']);
      const { pid } = await launch(id, paths);
      await sb.runtime.start(id);
      const spec = JSON.parse(await readFile(join(paths.bundle, 'config.json'), 'utf8')) as { linux: { cgroupsPath: string } };
      const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n');
      // v1 and hybrid: one line per controller hierarchy; v2: the single "0::<path>" line.
      const wanted = sb.layout === 'v2' ? lines.filter((l) => l.startsWith('0::')) : lines.filter((l) => /:(memory|pids|cpu,cpuacct|cpu|devices|freezer):/.test(l));
      assert.ok(wanted.length > 0, lines.join('\n'));
      for (const line of wanted) assert.equal(line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1), spec.linux.cgroupsPath, line);
      await sb.runtime.kill(id, 'SIGKILL');
      assert.equal(await sb.waitExit(id, paths), 137);
    });

    it('calls on a missing container: state is undefined, others are NotFoundError', async () => {
      assert.equal(await sb.runtime.state('berth-no-such-container'), undefined);
      await assert.rejects(sb.runtime.start('berth-no-such-container'), { name: 'NotFoundError' });
      await assert.rejects(sb.runtime.kill('berth-no-such-container', 'SIGKILL'), { name: 'NotFoundError' });
      await sb.runtime.delete('berth-no-such-container', true);
    });

    it('attach with stdin: data reaches cat, half-close gives EOF, output after EOF still arrives', async () => {
      const { id, paths } = await sb.bundle(['sh', '-c', 'cat; echo after-eof; echo to-stderr >&2']);
      await launch(id, paths, { stdin: true, stdinOnce: true });
      const session = await sb.monitor.attach(paths);
      const output = drain(session);
      await sb.runtime.start(id);
      session.write(Buffer.from('data\n'));
      session.closeStdin();
      assert.deepEqual(await output, { out: 'data\nafter-eof\n', err: 'to-stderr\n' });
      assert.equal(await sb.waitExit(id, paths), 0);
      assert.deepEqual(await sb.logLines(paths), ['stdout F data', 'stdout F after-eof', 'stderr F to-stderr']);
    });

    it('attach passes large stdin intact (messages are split below conmon\'s buffer)', async () => {
      const { id, paths } = await sb.bundle(['wc', '-c']);
      await launch(id, paths, { stdin: true, stdinOnce: true });
      const session = await sb.monitor.attach(paths);
      const output = drain(session);
      await sb.runtime.start(id);
      session.write(Buffer.alloc(300_000, 'x'));
      session.closeStdin();
      assert.equal((await output).out.trim(), '300000');
      assert.equal(await sb.waitExit(id, paths), 0);
    });

    it('TTY: tty prints /dev/pts/0, consoleSize applies, resize reaches the pty', { skip: differs.tty ?? false }, async () => {
      const { id, paths } = await sb.bundle(['sh', '-c', 'tty; stty size; read x; stty size'], {
        tty: true,
        consoleSize: { height: 30, width: 100 },
      });
      await launch(id, paths, { tty: true, stdin: true, stdinOnce: true });
      const session = await sb.monitor.attach(paths);
      const output = collect(session);
      await sb.runtime.start(id);
      // Resized once the first size is printed (the shell then waits on `read`).
      await waitFor(() => output.seen.out.includes('30 100\r\n'), { what: 'the first stty size' });
      await sb.monitor.resize(paths, 40, 120);
      session.write(Buffer.from('\n'));
      const { out, err } = await output.done;
      assert.equal(err, '');
      assert.match(out, /^\/dev\/pts\/0\r\n30 100\r\n/);
      assert.match(out, /40 120\r\n$/);
      assert.equal(await sb.waitExit(id, paths), 0);
      // The pty turns \n into \r\n and conmon logs lines as they come (dockerd's json-file does too).
      assert.equal((await sb.logLines(paths))[0], 'stdout F /dev/pts/0\r');
      await waitFor(async () => !(await sb.monitor.isAlive(paths.monitorPidFile)), { what: 'the monitor to exit' });
      await assert.rejects(sb.monitor.resize(paths, 10, 10), { code: 'ENXIO' }); // monitor gone: no hang
    });

    it("a missing command fails launch with the runtime's own message and leaves nothing behind", { skip: differs.missingCommandAtCreate ?? false }, async () => {
      const { id, paths } = await sb.bundle(['nonexistent-command']);
      await assert.rejects(launch(id, paths), (err: Error) => {
        assert.ok(err instanceof ExternalCommandError, `got ${err.name}: ${err.message}`);
        assert.match(err.message, /nonexistent-command/);
        assert.equal(runtimeErrorKind(err.message), 'command-not-found');
        return true;
      });
      assert.equal(await sb.runtime.state(id), undefined);
      assert.equal(await sb.monitor.isAlive(paths.monitorPidFile), false);
      await assert.rejects(sb.monitor.attach(paths));
    });

    it('a second launch under a live id is ConflictError and leaves the first container alone', { skip: differs.duplicateCreate ?? false }, async () => {
      const { id, paths } = await sb.bundle(['sleep', '100']);
      await launch(id, paths);
      await sb.runtime.start(id);
      const other = await sb.bundle(['sleep', '100']);
      await assert.rejects(launch(id, other.paths), { name: 'ConflictError' });
      await assert.rejects(launch(id, paths), { name: 'ConflictError' });
      assert.equal((await sb.runtime.state(id))?.status, 'running');
      assert.equal(await sb.monitor.isAlive(paths.monitorPidFile), true);
      const session = await sb.monitor.attach(paths); // still its own monitor's socket
      const closed = new Promise<void>((resolve) => session.onClose(resolve));
      await sb.runtime.kill(id, 'SIGKILL');
      assert.equal(await sb.waitExit(id, paths), 137);
      await closed;
    });

    it('the container keeps running after the Node process that launched it exits', async () => {
      const { id, paths } = await sb.bundle(['sleep', '100']);
      const script = join(sb.dir, `launch-${id}.js`);
      const runtimeDir = join(__dirname, '../../../src/runtime');
      await writeFile(
        script,
        `const { ConmonMonitor } = require(${JSON.stringify(join(runtimeDir, 'conmon.js'))});
const { RuntimeRegistry } = require(${JSON.stringify(join(runtimeDir, 'registry.js'))});
(async () => {
  const registry = await RuntimeRegistry.create(${JSON.stringify(sb.registryConfig)});
  const runtime = registry.get(${JSON.stringify(runtimeName)});
  const monitor = new ConmonMonitor({ execRoot: ${JSON.stringify(join(sb.dir, 'exec'))} });
  const launched = await monitor.launch({ id: ${JSON.stringify(id)}, runtime, paths: ${JSON.stringify(paths)}, tty: false, stdin: true, stdinOnce: true });
  await runtime.start(${JSON.stringify(id)});
  process.stdout.write(JSON.stringify(launched));
})().catch((e) => { console.error(e); process.exit(1); });
`,
      );
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, stderr);
      const launched = JSON.parse(stdout) as { pid: number; monitorPid: number };
      // Nothing it left behind dies with it, then or a little later.
      await holdsFor(async () => {
        const state = await sb.runtime.state(id);
        return state?.status === 'running' && state.pid === launched.pid && (await sb.monitor.isAlive(paths.monitorPidFile));
      }, { what: 'the container and its monitor outlive their launcher', duration: 300 });
      // A new daemon process can still attach, kill and learn the exit code.
      const session = await sb.monitor.attach(paths);
      const closed = new Promise<void>((resolve) => session.onClose(resolve));
      await sb.runtime.kill(id, 'SIGKILL');
      assert.equal(await sb.waitExit(id, paths), 137);
      await closed;
      await waitFor(async () => !(await sb.monitor.isAlive(paths.monitorPidFile)), { what: 'the monitor to exit' });
      await sb.runtime.delete(id);
    });
  });
}
