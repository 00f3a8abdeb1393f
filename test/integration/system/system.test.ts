import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, installedRuntime, startBerth, type Berth } from '../harness';

describe('system: version, info, ping', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth({ busybox: false });
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('docker version shows the Berth server section', () => {
    const out = JSON.parse(berth.ok(['version', '--format', '{{json .Server}}']));
    assert.match(out.Version, /^\d+\.\d+\.\d+/);
    assert.equal(out.ApiVersion, '1.51');
    assert.equal(out.MinAPIVersion, '1.24');
    assert.equal(out.Os, 'linux');
    assert.ok(out.KernelVersion.length > 0);
    // The CLI settles on the lower of its own API version and the server's (whichever CLI is installed).
    const client = JSON.parse(berth.ok(['version', '--format', '{{json .Client}}']));
    const lower = (a: string, b: string) => (Number(a.split('.')[1]) <= Number(b.split('.')[1]) ? a : b);
    assert.equal(client.ApiVersion, lower(client.DefaultAPIVersion, '1.51'));
  });

  it('docker info reports counts, storage, runtimes and cgroups', () => {
    const info = JSON.parse(berth.ok(['info', '--format', '{{json .}}']));
    assert.equal(info.Containers, 0);
    assert.equal(info.Images, 0);
    assert.equal(info.Driver, 'overlay2');
    assert.equal(info.DockerRootDir, berth.dataRoot);
    assert.ok(info.Runtimes.runc, 'runc listed');
    // crun is optional: listed when installed, and then the default (see runtime/registry.ts).
    assert.equal('crun' in info.Runtimes, installedRuntime('crun') !== undefined);
    // The suite's berth pass starts every daemon with --default-runtime (harness.ts).
    const forced = process.env.BERTH_TEST_DEFAULT_RUNTIME;
    const defaults = forced ? [forced] : ['crun', 'runc'];
    assert.ok(defaults.includes(info.DefaultRuntime) && info.DefaultRuntime in info.Runtimes, info.DefaultRuntime);
    assert.match(info.CgroupVersion, /^[12]$/);
    assert.equal(info.CgroupDriver, 'cgroupfs');
    assert.ok(info.NCPU >= 1);
    assert.ok(info.MemTotal > 0);
    assert.ok(info.ID.length > 0);
    assert.ok(info.Name.length > 0);
    assert.equal(info.Swarm.LocalNodeState, 'inactive');
  });

  it('_ping answers GET and HEAD with negotiation headers', async () => {
    const get = await api(berth.socket, 'GET', '/_ping');
    assert.equal(get.status, 200);
    assert.equal(get.body, 'OK');
    assert.equal(get.headers['api-version'], '1.51');
    assert.equal(get.headers['ostype'], 'linux');
    assert.equal(get.headers['docker-experimental'], 'false');
    assert.equal(get.headers['builder-version'], '1');
    assert.equal(get.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    assert.equal(get.headers['pragma'], 'no-cache');
    const head = await api(berth.socket, 'HEAD', '/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('versioned paths work and out-of-range versions get dockerd errors', async () => {
    assert.equal((await api(berth.socket, 'GET', '/v1.41/version')).status, 200);
    const old = await api(berth.socket, 'GET', '/v1.12/version');
    assert.equal(old.status, 400);
    assert.match(JSON.parse(old.body).message, /client version 1.12 is too old. Minimum supported API version is 1.24/);
    const tooNew = await api(berth.socket, 'GET', '/v1.52/info');
    assert.equal(tooNew.status, 400);
    assert.match(JSON.parse(tooNew.body).message, /client version 1.52 is too new. Maximum supported API version is 1.51/);
    const missing = await api(berth.socket, 'GET', '/v1.50/nothing-here');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { message: 'page not found' });
  });
});
