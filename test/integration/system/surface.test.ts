import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const NOT_IN_SWARM = 'This node is not part of a swarm';

describe('daemon surface: swarm and plugins on a daemon outside any swarm', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth({ busybox: false });
  });
  after(async () => {
    await berth?.cleanup();
  });

  const call = async (method: string, path: string, body?: string) => {
    const res = await api(berth.socket, method, `/v1.41${path}`, body);
    return { status: res.status, message: res.body ? (JSON.parse(res.body) as { message?: string }).message : undefined, body: res.body };
  };

  it('every manager-only swarm, node, service, task, secret and config endpoint answers 503 "not a swarm manager"', async () => {
    const calls: Array<[string, string, string?]> = [
      ['GET', '/swarm'],
      ['POST', '/swarm/update?version=1', '{}'],
      ['GET', '/swarm/unlockkey'],
      ['POST', '/swarm/unlock', '{"UnlockKey":"x"}'],
      ['GET', '/nodes'],
      ['GET', '/nodes/abc'],
      ['DELETE', '/nodes/abc'],
      ['POST', '/nodes/abc/update?version=1', '{}'],
      ['GET', '/services'],
      ['POST', '/services/create', '{}'],
      ['GET', '/services/abc'],
      ['DELETE', '/services/abc'],
      ['POST', '/services/abc/update?version=1', '{}'],
      ['GET', '/services/abc/logs?stdout=1'],
      ['GET', '/tasks'],
      ['GET', '/tasks/abc'],
      ['GET', '/tasks/abc/logs?stderr=1'],
      ['GET', '/secrets'],
      ['POST', '/secrets/create', '{}'],
      ['GET', '/secrets/abc'],
      ['DELETE', '/secrets/abc'],
      ['POST', '/secrets/abc/update?version=1', '{}'],
      ['GET', '/configs'],
      ['POST', '/configs/create', '{}'],
      ['GET', '/configs/abc'],
      ['DELETE', '/configs/abc'],
      ['POST', '/configs/abc/update?version=1', '{}'],
    ];
    for (const [method, path, body] of calls) {
      assert.deepEqual(await call(method, path, body).then((r) => [r.status, r.message]), [503, NOT_MANAGER], `${method} ${path}`);
    }
  });

  it('swarm leave (with or without force) is 503 "not part of a swarm"; init and join are refused', async () => {
    assert.deepEqual(await call('POST', '/swarm/leave?force=1').then((r) => [r.status, r.message]), [503, NOT_IN_SWARM]);
    assert.deepEqual(await call('POST', '/swarm/leave').then((r) => [r.status, r.message]), [503, NOT_IN_SWARM]);
    for (const path of ['/swarm/init', '/swarm/join']) {
      const res = await call('POST', path, '{"ListenAddr":"0.0.0.0:2377"}');
      assert.equal(res.status, 501, path);
      assert.match(res.message ?? '', /does not support swarm mode/);
    }
  });

  it('checks parameters and bodies before answering, with dockerd messages', async () => {
    const cases: Array<[string, string, string | undefined, string]> = [
      ['POST', '/swarm/update', '{}', `invalid swarm version '': strconv.ParseUint: parsing "": invalid syntax`],
      ['POST', '/nodes/abc/update?version=x', '{}', `invalid node version 'x': strconv.ParseUint: parsing "x": invalid syntax`],
      ['POST', '/services/abc/update', '{}', `invalid service version '': strconv.ParseUint: parsing "": invalid syntax`],
      ['POST', '/secrets/abc/update?version=x', '{}', 'invalid secret version'],
      ['POST', '/configs/abc/update', '{}', 'invalid config version'],
      ['POST', '/services/create', undefined, 'got EOF while reading request body'],
      ['POST', '/swarm/init', undefined, 'got EOF while reading request body'],
      ['GET', '/services?status=x', undefined, 'invalid value for status: x: strconv.ParseBool: parsing "x": invalid syntax'],
      ['GET', '/services/abc/logs', undefined, 'Bad parameters: you must choose at least one stream'],
    ];
    for (const [method, path, body, message] of cases) {
      assert.deepEqual(await call(method, path, body).then((r) => [r.status, r.message]), [400, message], `${method} ${path}`);
    }
  });

  it('the stock CLI prints dockerd\'s words: swarm leave --force, node ls, service ls, swarm unlock-key', () => {
    const leave = berth.docker(['swarm', 'leave', '--force']);
    assert.equal(leave.code, 1);
    assert.equal(leave.stderr.trim(), `Error response from daemon: ${NOT_IN_SWARM}`);
    for (const args of [['node', 'ls'], ['service', 'ls'], ['secret', 'ls'], ['config', 'ls']]) {
      const r = berth.docker(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr.trim(), `Error response from daemon: ${NOT_MANAGER}`, args.join(' '));
    }
    assert.match(berth.docker(['swarm', 'unlock-key']).stderr, new RegExp(`could not fetch unlock key: Error response from daemon: ${NOT_MANAGER.replace(/[."]/g, '.')}`));
  });

  it('docker info shows an inactive swarm exactly as dockerd does', async () => {
    const info = JSON.parse((await api(berth.socket, 'GET', '/v1.41/info')).body);
    assert.deepEqual(info.Swarm, { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null });
    assert.match(berth.ok(['info']), /Swarm: inactive/);
  });

  it('GET /plugins is [] and every plugin name is "not found"', async () => {
    assert.deepEqual(await call('GET', '/plugins').then((r) => [r.status, JSON.parse(r.body)]), [200, []]);
    assert.deepEqual(await call('GET', `/plugins?filters=${encodeURIComponent('{"enabled":["true"],"capability":["volumedriver"]}')}`).then((r) => [r.status, r.body.trim()]), [200, '[]']);
    assert.deepEqual(await call('GET', `/plugins?filters=${encodeURIComponent('{"foo":["x"]}')}`).then((r) => [r.status, r.message]), [400, "Invalid filter 'foo'"]);
    const notFound: Array<[string, string, string?, string?]> = [
      ['GET', '/plugins/x/json'],
      ['GET', '/plugins/vieux/sshfs:latest/json', undefined, 'vieux/sshfs:latest'],
      ['DELETE', '/plugins/x?force=1'],
      ['POST', '/plugins/x/enable?timeout=0'],
      ['POST', '/plugins/x/disable'],
      ['POST', '/plugins/x/push'],
      ['POST', '/plugins/x/set', '["a=b"]'],
      ['POST', '/plugins/x/upgrade?remote=y', '[]', 'x:latest'],
    ];
    for (const [method, path, body, name = 'x'] of notFound) {
      assert.deepEqual(await call(method, path, body).then((r) => [r.status, r.message]), [404, `plugin "${name}" not found`], `${method} ${path}`);
    }
    assert.deepEqual(await call('POST', '/plugins/x/enable').then((r) => [r.status, r.message]), [400, 'strconv.Atoi: parsing "": invalid syntax']);
    assert.deepEqual(await call('GET', '/plugins/privileges?remote=vieux/sshfs').then((r) => [r.status, JSON.parse(r.body)]), [200, []]);
    const pull = await call('POST', '/plugins/pull?remote=vieux/sshfs', '[]');
    assert.deepEqual([pull.status, pull.message], [501, 'plugins are not supported on this platform']);
  });

  it('docker plugin ls lists nothing and docker plugin inspect/rm say "not found"', () => {
    assert.equal(berth.ok(['plugin', 'ls']).trim(), 'ID        NAME      DESCRIPTION   ENABLED');
    for (const args of [['plugin', 'inspect', 'foo'], ['plugin', 'rm', 'foo'], ['plugin', 'disable', 'foo']]) {
      const r = berth.docker(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /Error response from daemon: plugin "foo" not found/, args.join(' '));
    }
  });
});
