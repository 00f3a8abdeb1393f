import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The same objects read at several API versions: fields appear and disappear as the API
 * version history and moby's routers say (see src/api/version-shapes.ts).
 */
describe('responses are shaped by the negotiated API version', () => {
  let berth: Berth;
  let id: string;
  const net = `shapes-${process.pid}`;
  before(async () => {
    berth = await startBerth();
    berth.ok(['network', 'create', net]);
    const created = await api(
      berth.socket,
      'POST',
      '/v1.51/containers/create?name=shaped',
      JSON.stringify({
        Image: 'busybox',
        Cmd: ['sleep', '300'],
        HostConfig: { NetworkMode: net, Annotations: { 'com.example.note': 'hi' } },
        NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['web'] } } },
      }),
    );
    assert.equal(created.status, 201, created.body);
    id = JSON.parse(created.body).Id;
    berth.ok(['start', id]);
  });
  after(async () => {
    await berth?.cleanup();
  });

  const get = async (version: string, path: string): Promise<Json> => {
    const res = await api(berth.socket, 'GET', `/v${version}${path}`);
    assert.equal(res.status, 200, `${version} ${path}: ${res.body}`);
    return JSON.parse(res.body);
  };

  it('container inspect: KernelMemory until 1.42, Annotations from 1.43, DNSNames from 1.44, short-ID aliases until 1.45, GwPriority from 1.48', async () => {
    const shortId = id.slice(0, 12);
    const at = async (v: string) => {
      const c = await get(v, '/containers/shaped/json');
      return { hc: c.HostConfig, ep: c.NetworkSettings.Networks[net], ns: c.NetworkSettings };
    };
    const v141 = await at('1.41');
    assert.equal(v141.hc.KernelMemory, 0);
    assert.equal(v141.hc.KernelMemoryTCP, 0);
    assert.ok(!('Annotations' in v141.hc));
    assert.ok(!('DNSNames' in v141.ep));
    assert.ok(!('GwPriority' in v141.ep));
    assert.deepEqual(v141.ep.Aliases, ['web', shortId]);
    assert.ok('IPAddress' in v141.ns && 'Bridge' in v141.ns, 'deprecated top-level network fields stay until 1.52');

    const v143 = await at('1.43');
    assert.ok(!('KernelMemory' in v143.hc));
    assert.deepEqual(v143.hc.Annotations, { 'com.example.note': 'hi' });
    assert.ok(!('DNSNames' in v143.ep));

    const v144 = await at('1.44');
    assert.deepEqual(v144.ep.Aliases, ['web', shortId]);
    assert.ok(Array.isArray(v144.ep.DNSNames) && v144.ep.DNSNames.includes('shaped'));

    const v145 = await at('1.45');
    assert.deepEqual(v145.ep.Aliases, ['web'], 'from 1.45 Aliases are what the client sent');
    assert.ok(!('GwPriority' in v145.ep));

    const v151 = await at('1.51');
    assert.equal(v151.ep.GwPriority, 0);
    assert.deepEqual(v151.ep.Aliases, ['web']);
    assert.ok(!('KernelMemory' in v151.hc));
  });

  it('container list: HostConfig.Annotations from 1.46, DNSNames from 1.44', async () => {
    const item = async (v: string) => ((await get(v, '/containers/json?all=1')) as Json[]).find((c) => c.Id === id)!;
    const v141 = await item('1.41');
    assert.deepEqual(v141.HostConfig, { NetworkMode: net });
    assert.ok(!('DNSNames' in v141.NetworkSettings.Networks[net]));
    const v144 = await item('1.44');
    assert.ok('DNSNames' in v144.NetworkSettings.Networks[net]);
    assert.ok(!('Annotations' in v144.HostConfig));
    const v146 = await item('1.46');
    assert.deepEqual(v146.HostConfig, { NetworkMode: net, Annotations: { 'com.example.note': 'hi' } });
  });

  it('image inspect: Container/ContainerConfig until 1.45, container-only Config fields until 1.50', async () => {
    const legacy = ['Hostname', 'Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Image'];
    const always = ['Cmd', 'Entrypoint', 'Env', 'Labels', 'OnBuild', 'User', 'Volumes', 'WorkingDir'];
    for (const v of ['1.41', '1.43', '1.44']) {
      const img = await get(v, '/images/busybox/json');
      assert.ok('Container' in img && 'ContainerConfig' in img, v);
      for (const k of [...legacy, ...always]) assert.ok(k in img.Config, `${v} Config.${k}`);
      for (const k of ['Parent', 'Comment', 'DockerVersion', 'Author']) assert.equal(typeof img[k], 'string', `${v} ${k}`);
    }
    const v145 = await get('1.45', '/images/busybox/json');
    assert.ok(!('Container' in v145) && !('ContainerConfig' in v145));
    assert.ok('Hostname' in v145.Config);
    for (const v of ['1.50', '1.51']) {
      const img = await get(v, '/images/busybox/json');
      for (const k of legacy) assert.ok(!(k in img.Config), `${v} Config.${k} is gone`);
      for (const k of always) assert.ok(k in img.Config, `${v} Config.${k}`);
    }
  });

  it('image list: <none> names until 1.43, Containers counted from 1.51', async () => {
    const busybox = async (v: string) => ((await get(v, '/images/json')) as Json[]).find((i) => (i.RepoTags ?? []).includes('busybox:latest'))!;
    assert.equal((await busybox('1.41')).Containers, -1);
    assert.equal((await busybox('1.41')).RepoDigests, null, 'an empty list was null before 1.43');
    assert.deepEqual((await busybox('1.43')).RepoDigests, []);
    assert.equal((await busybox('1.50')).Containers, -1);
    assert.equal((await busybox('1.51')).Containers, 1, 'the one container made from it');
    // An untagged image (a commit without a name) was `<none>:<none>` before 1.43.
    const committed = JSON.parse((await api(berth.socket, 'POST', `/v1.51/commit?container=${id}`, '{}')).body).Id;
    const untagged = async (v: string) => ((await get(v, '/images/json')) as Json[]).find((i) => i.Id === committed)!;
    assert.deepEqual([(await untagged('1.42')).RepoTags, (await untagged('1.42')).RepoDigests], [['<none>:<none>'], ['<none>@<none>']]);
    assert.deepEqual([(await untagged('1.43')).RepoTags, (await untagged('1.43')).RepoDigests], [[], []]);
  });

  it('info: legacy fields for old clients, CDISpecDirs from 1.44', async () => {
    const v141 = await get('1.41', '/info');
    assert.equal(v141.KernelMemory, false);
    assert.equal(v141.BridgeNfIptables, false);
    assert.deepEqual(v141.RegistryConfig.AllowNondistributableArtifactsCIDRs, []);
    assert.equal(v141.RuncCommit.Expected, v141.RuncCommit.ID);
    assert.ok(!('CDISpecDirs' in v141));
    const v151 = await get('1.51', '/info');
    for (const k of ['KernelMemory', 'BridgeNfIptables', 'BridgeNfIp6tables']) assert.ok(!(k in v151), k);
    assert.ok(!('AllowNondistributableArtifactsCIDRs' in v151.RegistryConfig));
    assert.ok(!('Expected' in v151.RuncCommit));
    assert.deepEqual(v151.CDISpecDirs, []);
    assert.equal(v151.Swarm.LocalNodeState, 'inactive');
  });

  it('networks: EnableIPv4 from 1.48', async () => {
    assert.ok(!('EnableIPv4' in (await get('1.41', `/networks/${net}`))));
    assert.ok(!('EnableIPv4' in (await get('1.47', '/networks')).find((n: Json) => n.Name === net)));
    assert.equal((await get('1.48', `/networks/${net}`)).EnableIPv4, true);
    assert.equal((await get('1.51', '/networks')).find((n: Json) => n.Name === net).EnableIPv4, true);
  });
});
