import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BERTH_RUNTIME_PATH } from '../../../src/runtime/builtin/runtime-entry';
import { installedRuntime, needsRuntime, startBerth, type Berth } from '../harness';

/** crun is optional: its cases are skipped, not failed, on a host without it. */
const crun = installedRuntime('crun');

describe('OCI runtimes: runc and crun', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth({ extraArgs: crun ? ['--add-runtime', `crun-alt=${crun}`] : [] });
  });
  after(async () => {
    await berth?.cleanup();
  });

  for (const runtime of ['runc', 'crun', 'crun-alt']) {
    it(`runs containers with ${runtime}`, { skip: runtime === 'runc' ? false : needsRuntime('crun') }, () => {
      const r = berth.docker(['run', '--rm', '--runtime', runtime, 'busybox', 'sh', '-c', 'echo hi from $(hostname | wc -c); exit 5']);
      assert.equal(r.code, 5, r.stderr);
      assert.equal(r.stdout, 'hi from 13\n');
      const piped = berth.docker(['run', '-i', '--rm', '--runtime', runtime, 'busybox', 'cat'], { input: 'through stdin\n' });
      assert.equal(piped.stdout, 'through stdin\n');
      berth.ok(['run', '-d', '--name', `long-${runtime}`, '--runtime', runtime, 'busybox', 'sleep', '60']);
      const [c] = JSON.parse(berth.ok(['inspect', `long-${runtime}`]));
      assert.equal(c.HostConfig.Runtime, runtime);
      assert.equal(c.State.Running, true);
      berth.ok(['rm', '-f', `long-${runtime}`]);
    });
  }

  it('lists the runtimes in docker info', () => {
    const info = JSON.parse(berth.ok(['info', '--format', '{{json .}}']));
    // Berth's own runtime is listed once `npm run build` built its executor.
    const berthRuntime = existsSync(BERTH_RUNTIME_PATH) ? ['berth'] : [];
    assert.deepEqual(Object.keys(info.Runtimes).sort(), [...berthRuntime, ...(crun ? ['crun', 'crun-alt', 'runc'] : ['runc'])]);
  });

  it('picks the daemon default runtime from --default-runtime', async () => {
    const other = await startBerth({ extraArgs: ['--default-runtime', 'runc'] });
    try {
      assert.equal(JSON.parse(other.ok(['info', '--format', '{{json .}}'])).DefaultRuntime, 'runc');
      other.ok(['run', '-d', '--name', 'cc', 'busybox', 'sleep', '30']);
      assert.equal(JSON.parse(other.ok(['inspect', 'cc']))[0].HostConfig.Runtime, 'runc');
      assert.equal(other.ok(['run', '--rm', 'busybox', 'echo', 'ok']), 'ok\n');
    } finally {
      await other.cleanup();
    }
  });

  it('passes the runtime\'s own error through and leaves no container behind', () => {
    for (const runtime of crun ? ['runc', 'crun'] : ['runc']) {
      const r = berth.docker(['run', '--rm', '--runtime', runtime, 'busybox', '/nonexistent']);
      assert.equal(r.code, 127, `${runtime}: ${r.stderr}`);
      assert.match(r.stderr, /nonexistent/);
    }
    assert.equal(berth.ok(['ps', '-aq']), '');
  });
});
