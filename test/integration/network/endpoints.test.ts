/**
 * Endpoint details clients rely on, each compared with dockerd 20.10 (and moby's source for
 * what changed since): `network connect` switches resolv.conf to the embedded DNS, a missing
 * network fails at start rather than at create, HostPort "0", link-local addresses, and
 * NetworkingConfig with several networks and aliases at create.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { freeSubnet } from './free-subnet';
import { apiJson, startBerth, type Berth } from '../harness';
import { waitForHttp } from '../wait';

const rand = () => randomBytes(3).toString('hex');

describe('network endpoints like dockerd', () => {
  let berth: Berth;

  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  const json = (method: string, path: string, body?: unknown) => apiJson(berth.socket, method, path, body);

  it('network connect moves a default-bridge container onto the embedded DNS', () => {
    const net = `cn${rand()}`;
    berth.ok(['network', 'create', '--subnet', freeSubnet(193), net]);
    const peer = `pe${rand()}`;
    const mover = `mv${rand()}`;
    berth.ok(['run', '-d', '--name', peer, '--network', net, 'busybox', 'sleep', '300']);
    berth.ok(['run', '-d', '--name', mover, 'busybox', 'sleep', '300']);
    assert.doesNotMatch(berth.ok(['exec', mover, 'cat', '/etc/resolv.conf']), /127\.0\.0\.11/);

    berth.ok(['network', 'connect', '--alias', 'moved', net, mover]);
    assert.match(berth.ok(['exec', mover, 'cat', '/etc/resolv.conf']), /^nameserver 127\.0\.0\.11$/m);
    const [c] = JSON.parse(berth.ok(['inspect', mover]));
    const ip = c.NetworkSettings.Networks[net].IPAddress as string;
    assert.match(berth.ok(['exec', mover, 'cat', '/etc/hosts']), new RegExp(`^${ip.replace(/\./g, '\\.')}\t${c.Config.Hostname}$`, 'm'));
    const peerIp = JSON.parse(berth.ok(['inspect', peer]))[0].NetworkSettings.Networks[net].IPAddress as string;
    assert.match(berth.ok(['exec', mover, 'nslookup', peer]), new RegExp(`Address: ${peerIp.replace(/\./g, '\\.')}`));
    assert.match(berth.ok(['exec', peer, 'nslookup', 'moved']), new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));

    // dockerd keeps the embedded DNS after a disconnect and drops the address's hosts line.
    berth.ok(['network', 'disconnect', net, mover]);
    assert.match(berth.ok(['exec', mover, 'cat', '/etc/resolv.conf']), /^nameserver 127\.0\.0\.11$/m);
    assert.doesNotMatch(berth.ok(['exec', mover, 'cat', '/etc/hosts']), new RegExp(`^${ip.replace(/\./g, '\\.')}\t`, 'm'));
    berth.ok(['rm', '-f', peer, mover]);
    berth.ok(['network', 'rm', net]);
  });

  it('creates a container on a missing network and fails its start, as dockerd', async () => {
    const name = `mn${rand()}`;
    const missing = `nonet${rand()}`;
    const created = await json('POST', `/v1.41/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: missing } });
    assert.equal(created.status, 201);
    const started = await json('POST', `/v1.41/containers/${name}/start`);
    assert.deepEqual(started, { status: 404, body: { message: `network ${missing} not found` } });
    const [c] = JSON.parse(berth.ok(['inspect', name]));
    assert.equal(c.State.Status, 'created');
    assert.equal(c.State.Error, `network ${missing} not found`);
    assert.equal(c.State.ExitCode, 128);
    assert.deepEqual(Object.keys(c.NetworkSettings.Networks), [missing]);
    // The CLI reports it without trying to pull the image.
    const run = berth.docker(['run', '--rm', '--network', missing, 'busybox', 'true']);
    assert.equal(run.code, 125);
    assert.match(run.stderr, new RegExp(`Error response from daemon: network ${missing} not found`));
    assert.doesNotMatch(run.stderr, /Unable to find image|pull/);
    berth.ok(['rm', name]);
  });

  it('takes HostPort "0" and "" as any free port (testcontainers)', async () => {
    const name = `hp${rand()}`;
    const created = await json('POST', `/v1.41/containers/create?name=${name}`, {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'mkdir -p /www && echo port-ok > /www/index.html && exec httpd -f -p 80 -h /www'],
      ExposedPorts: { '80/tcp': {}, '81/tcp': {} },
      HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '0' }], '81/tcp': [{ HostIp: '', HostPort: '' }] } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    berth.ok(['start', name]);
    const [c] = JSON.parse(berth.ok(['inspect', name]));
    const p80 = Number(c.NetworkSettings.Ports['80/tcp'][0].HostPort);
    const p81 = Number(c.NetworkSettings.Ports['81/tcp'][0].HostPort);
    assert.ok(p80 > 0 && p81 > 0 && p80 !== p81, JSON.stringify(c.NetworkSettings.Ports));
    assert.deepEqual(c.HostConfig.PortBindings['80/tcp'], [{ HostIp: '', HostPort: '0' }]);
    assert.equal(await waitForHttp(`http://127.0.0.1:${p80}/`), 'port-ok\n');
    berth.ok(['rm', '-f', name]);
  });

  it('puts link-local addresses on the interface and shows them in IPAMConfig', () => {
    const net = `ll${rand()}`;
    berth.ok(['network', 'create', '--subnet', freeSubnet(188), net]);
    const name = `ll${rand()}`;
    berth.ok(['run', '-d', '--name', name, '--network', net, '--link-local-ip', '169.254.7.7', 'busybox', 'sleep', '300']);
    assert.match(berth.ok(['exec', name, 'ip', '-4', 'addr', 'show', 'eth0']), /inet 169\.254\.7\.7\/16 brd 169\.254\.255\.255 scope global eth0/);
    const [c] = JSON.parse(berth.ok(['inspect', name]));
    assert.deepEqual(c.NetworkSettings.Networks[net].IPAMConfig, { LinkLocalIPs: ['169.254.7.7'] });
    // On the default bridge too (dockerd accepts it there).
    assert.match(berth.ok(['run', '--rm', '--link-local-ip', '169.254.7.9', 'busybox', 'ip', '-4', 'addr', 'show', 'eth0']), /inet 169\.254\.7\.9\/16/);
    const bad = berth.docker(['run', '--rm', '--network', net, '--link-local-ip', 'nonsense', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    berth.ok(['rm', '-f', name]);
    berth.ok(['network', 'rm', net]);
  });

  it('connects a container to every network of NetworkingConfig from API 1.44, refuses several before', async () => {
    const a = `na${rand()}`;
    const b = `nb${rand()}`;
    berth.ok(['network', 'create', '--subnet', freeSubnet(191), a]);
    berth.ok(['network', 'create', '--subnet', freeSubnet(190), b]);
    const body = {
      Image: 'busybox',
      Cmd: ['sleep', '300'],
      HostConfig: { NetworkMode: a },
      NetworkingConfig: { EndpointsConfig: { [a]: { Aliases: ['alias-a'] }, [b]: { Aliases: ['alias-b'] } } },
    };
    const old = await json('POST', '/v1.43/containers/create', body);
    assert.equal(old.status, 400);
    assert.match(old.body.message, /^Container cannot be created with multiple network endpoints: /);
    assert.deepEqual(old.body.message.split(': ')[1].split(', ').sort(), [a, b].sort());

    const name = `mx${rand()}`;
    const created = await json('POST', `/v1.44/containers/create?name=${name}`, body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    berth.ok(['start', name]);
    const [c] = JSON.parse(berth.ok(['inspect', name]));
    assert.deepEqual(Object.keys(c.NetworkSettings.Networks).sort(), [a, b].sort());
    assert.deepEqual(c.NetworkSettings.Networks[b].Aliases, ['alias-b']);
    assert.match(berth.ok(['exec', name, 'ip', '-o', 'addr']), /eth1/);
    const ipB = c.NetworkSettings.Networks[b].IPAddress as string;
    assert.match(berth.ok(['run', '--rm', '--network', b, 'busybox', 'nslookup', 'alias-b']), new RegExp(`Address: ${ipB.replace(/\./g, '\\.')}`));
    berth.ok(['rm', '-f', name]);
    berth.ok(['network', 'rm', a, b]);
  });
});
