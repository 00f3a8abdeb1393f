/**
 * Legacy links as dockerd has them (checked side by side with dockerd 20.10): on the default
 * bridge the parent gets `<ALIAS>_*` variables, an /etc/hosts line, the child is also named
 * `/<parent>/<alias>`, and `DELETE /containers/<parent>/<alias>?link=1` removes only the link;
 * on a user-defined network the alias resolves through the embedded DNS, for that container only.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { freeSubnet } from './free-subnet';
import { apiJson, startBerth, type Berth } from '../harness';

const rand = () => randomBytes(3).toString('hex');

describe('legacy links', () => {
  let berth: Berth;

  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  const json = (method: string, path: string, body?: unknown) => apiJson(berth.socket, method, path, body);

  it('gives the parent dockerd\'s link variables and hosts line (docker-py create_with_links)', () => {
    const child = `ch${rand()}`;
    const other = `ot${rand()}`;
    berth.ok(['run', '-d', '--name', child, '-e', 'FOO=1', '--expose', '80', '--expose', '53/udp', 'busybox', 'sleep', '300']);
    berth.ok(['run', '-d', '--name', other, '-e', 'FOO=2', 'busybox', 'sleep', '300']);
    const ip = JSON.parse(berth.ok(['inspect', child]))[0].NetworkSettings.Networks.bridge.IPAddress as string;
    const out = berth.ok(['run', '--name', `pa${rand()}`, '--link', `${child}:al`, '--link', `${other}:my-link2`, 'busybox', 'sh', '-c', 'env; echo ---; cat /etc/hosts']);
    const [env, hosts] = out.split('---\n');
    const vars = env.split('\n').filter((l) => l.startsWith('AL_') || l.startsWith('MY_LINK2_'));
    const parent = /AL_NAME=\/(\S+)\/al/.exec(env)?.[1];
    assert.ok(parent, env);
    assert.deepEqual(vars.sort(), [
      'AL_ENV_FOO=1',
      `AL_NAME=/${parent}/al`,
      `AL_PORT=tcp://${ip}:80`,
      `AL_PORT_53_UDP=udp://${ip}:53`,
      `AL_PORT_53_UDP_ADDR=${ip}`,
      'AL_PORT_53_UDP_PORT=53',
      'AL_PORT_53_UDP_PROTO=udp',
      `AL_PORT_80_TCP=tcp://${ip}:80`,
      `AL_PORT_80_TCP_ADDR=${ip}`,
      'AL_PORT_80_TCP_PORT=80',
      'AL_PORT_80_TCP_PROTO=tcp',
      'MY_LINK2_ENV_FOO=2',
      `MY_LINK2_NAME=/${parent}/my-link2`,
    ]);
    const childId = JSON.parse(berth.ok(['inspect', child]))[0].Id as string;
    assert.match(hosts, new RegExp(`^${ip.replace(/\./g, '\\.')}\tal ${childId.slice(0, 12)} ${child}$`, 'm'));
    berth.ok(['rm', '-f', child, other, parent]);
  });

  it('refuses links to missing or stopped containers as dockerd does', async () => {
    const missing = await json('POST', '/v1.41/containers/create', { Image: 'busybox', HostConfig: { Links: ['nosuch:x'] } });
    assert.deepEqual(missing, { status: 400, body: { message: 'could not get container for nosuch: No such container: nosuch' } });
    const stopped = `st${rand()}`;
    const parent = `pa${rand()}`;
    berth.ok(['create', '--name', stopped, 'busybox', 'sleep', '300']);
    berth.ok(['create', '--name', parent, '--link', `${stopped}:al`, 'busybox', 'sleep', '300']);
    const start = await json('POST', `/v1.41/containers/${parent}/start`);
    assert.deepEqual(start, { status: 500, body: { message: `Cannot link to a non running container: /${stopped} AS /${parent}/al` } });
    berth.ok(['rm', '-f', stopped, parent]);
  });

  it('docker rm --link removes the link only (docker-py remove_link)', async () => {
    const child = `ch${rand()}`;
    const parent = `pa${rand()}`;
    berth.ok(['run', '-d', '--name', child, 'busybox', 'sleep', '300']);
    berth.ok(['run', '-d', '--name', parent, '--link', `${child}:mylink`, 'busybox', 'sleep', '300']);
    const names = async () => (await json('GET', '/v1.41/containers/json?all=1')).body.map((c: { Names: string[] }) => c.Names) as string[][];
    assert.deepEqual((await names()).find((n) => n[0] === `/${child}`), [`/${child}`, `/${parent}/mylink`]);
    assert.deepEqual(JSON.parse(berth.ok(['inspect', parent]))[0].HostConfig.Links, [`/${child}:/${parent}/mylink`]);
    assert.match(berth.ok(['exec', parent, 'cat', '/etc/hosts']), /\tmylink /);
    // The child comes back (perhaps with another address): the parent's line follows it.
    berth.ok(['restart', '-t', '0', child]);
    const childIp = JSON.parse(berth.ok(['inspect', child]))[0].NetworkSettings.Networks.bridge.IPAddress as string;
    assert.match(berth.ok(['exec', parent, 'cat', '/etc/hosts']), new RegExp(`^${childIp.replace(/\./g, '\\.')}\tmylink `, 'm'));

    berth.ok(['rm', '--link', `${parent}/mylink`]);
    assert.ok(!(await names()).flat().includes(`/${parent}/mylink`), 'the link name is gone');
    assert.equal(JSON.parse(berth.ok(['inspect', parent]))[0].HostConfig.Links, null);
    assert.doesNotMatch(berth.ok(['exec', parent, 'cat', '/etc/hosts']), /mylink/);
    assert.equal(JSON.parse(berth.ok(['inspect', child]))[0].State.Running, true, 'both containers are still there');

    assert.deepEqual(await json('DELETE', `/v1.41/containers/${parent}/mylink?link=1`), { status: 404, body: { message: `No such container: ${parent}/mylink` } });
    assert.deepEqual(await json('DELETE', `/v1.41/containers/${parent}?link=1`), { status: 500, body: { message: 'Conflict, cannot remove the default link name of the container' } });
    assert.deepEqual(await json('DELETE', '/v1.41/containers/nosuch/al?link=1'), { status: 404, body: { message: 'No such container: nosuch/al' } });
    berth.ok(['rm', '-f', child, parent]);
  });

  it('resolves a link alias on a user-defined network for the linking container only', () => {
    const net = `lk${rand()}`;
    berth.ok(['network', 'create', '--subnet', freeSubnet(194), net]);
    const target = `tg${rand()}`;
    const linker = `lr${rand()}`;
    berth.ok(['run', '-d', '--name', target, '--network', net, 'busybox', 'sleep', '300']);
    berth.ok(['run', '-d', '--name', linker, '--network', net, '--link', `${target}:al`, 'busybox', 'sleep', '300']);
    const ip = JSON.parse(berth.ok(['inspect', target]))[0].NetworkSettings.Networks[net].IPAddress as string;
    const [c] = JSON.parse(berth.ok(['inspect', linker]));
    assert.deepEqual(c.NetworkSettings.Networks[net].Links, [`${target}:al`]);
    assert.equal(c.HostConfig.Links, null);
    assert.match(berth.ok(['exec', linker, 'nslookup', 'al']), new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
    const other = berth.docker(['run', '--rm', '--network', net, 'busybox', 'nslookup', 'al']);
    assert.doesNotMatch(other.stdout, new RegExp(ip.replace(/\./g, '\\.')));
    berth.ok(['rm', '-f', target, linker]);
    berth.ok(['network', 'rm', net]);
  });
});
