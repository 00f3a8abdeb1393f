/** conmon-specific behaviour that needs no container: argv, and failures of conmon itself. */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConmonMonitor } from '../../../src/runtime/conmon';
import { ExternalCommandError } from '../../../src/host/command';
import { OciCli } from '../../../src/runtime/oci-cli';
import type { MonitorPaths } from '../../../src/runtime/types';

describe('ConmonMonitor with a fake conmon', () => {
  let dir: string;
  let paths: MonitorPaths;
  const runtime = () => new OciCli({ name: 'fake', path: '/bin/true', root: join(dir, 'state') });

  async function fakeConmon(name: string, body: string): Promise<string> {
    const p = join(dir, name);
    await writeFile(p, `#!/bin/sh\n${body}\n`);
    await chmod(p, 0o755);
    return p;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-conmon-'));
    const bundle = join(dir, 'bundle');
    await mkdir(bundle);
    paths = {
      bundle,
      logPath: join(dir, 'ctr.log'),
      exitDir: join(dir, 'exits'),
      pidFile: join(dir, 'ctr.pid'),
      monitorPidFile: join(dir, 'conmon.pid'),
    };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes the flags measured with conmon 2.1.6, runs in the bundle, gets the sync fd as _OCI_SYNCPIPE', async () => {
    const conmonPath = await fakeConmon(
      'record',
      `printf '%s\\n' "$@" > ${JSON.stringify(join(dir, 'argv'))}; pwd > ${JSON.stringify(join(dir, 'cwd'))}
echo $$ > ${JSON.stringify(paths.monitorPidFile)}
printf '{"data": 4242}\\n' >&$_OCI_SYNCPIPE`,
    );
    const monitor = new ConmonMonitor({ execRoot: join(dir, 'exec'), conmonPath });
    const launched = await monitor.launch({ id: 'c1', runtime: runtime(), paths, tty: true, stdin: true, stdinOnce: false });
    assert.equal(launched.pid, 4242);
    assert.ok(launched.monitorPid > 0);
    const argv = (await readFile(join(dir, 'argv'), 'utf8')).trim().split('\n');
    const cuuid = argv[argv.indexOf('--cuuid') + 1];
    assert.match(cuuid, /^[0-9a-f]{16}$/);
    assert.deepEqual(argv, [
      '--api-version', '1', '--cid', 'c1', '--cuuid', cuuid, '--name', 'c1', '--runtime', '/bin/true',
      '--runtime-arg', '--root', '--runtime-arg', join(dir, 'state'),
      '--bundle', paths.bundle, '--exit-dir', paths.exitDir, '--socket-dir-path', join(dir, 'exec', 'sockets'),
      '--log-path', `k8s-file:${paths.logPath}`, '--container-pidfile', paths.pidFile, '--conmon-pidfile', paths.monitorPidFile,
      '--terminal', '--stdin', '--leave-stdin-open',
    ]);
    assert.equal((await readFile(join(dir, 'cwd'), 'utf8')).trim(), paths.bundle);
  });

  it("reports conmon's own failure with its stderr", async () => {
    const conmonPath = await fakeConmon('bad-flag', 'echo "conmon: Unknown option --bogus" >&2; exit 1');
    const monitor = new ConmonMonitor({ execRoot: join(dir, 'exec'), conmonPath });
    await assert.rejects(monitor.launch({ id: 'c2', runtime: runtime(), paths, tty: false, stdin: false, stdinOnce: false }), (err: unknown) => {
      assert.ok(err instanceof ExternalCommandError);
      assert.equal(err.message, 'conmon: Unknown option --bogus');
      assert.equal(err.program, conmonPath);
      return true;
    });
  });

  it('gives up on a conmon that never reports, and kills it', async () => {
    const conmonPath = await fakeConmon('hang', 'exec sleep 30');
    const monitor = new ConmonMonitor({ execRoot: join(dir, 'exec'), conmonPath, launchTimeoutMs: 300 });
    const t0 = Date.now();
    await assert.rejects(monitor.launch({ id: 'c3', runtime: runtime(), paths, tty: false, stdin: false, stdinOnce: false }), /within 300 ms/);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('refuses an exec root too long for unix socket paths', () => {
    assert.throws(() => new ConmonMonitor({ execRoot: `/${'x'.repeat(100)}` }), /too long/);
  });
});
