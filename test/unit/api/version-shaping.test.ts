/**
 * What the API changes per negotiated version (1.24 → 1.51), through the HTTP layer (inject,
 * fake backends): the engine answers in the newest shape, and the server adds the fields older
 * versions had and drops the ones they did not, as dockerd's routers do (version-shapes.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { EventMessage } from '../../../src/engine/events/event-log';
import type { ListNetworksOptions } from '../../../src/engine/networks/types';
import { fakeApi, json } from './fake-api';

const ID = 'f'.repeat(64);

/** An engine view reduced to the fields a test looks at (the server only reads fields by name). */
const view = (fields: Record<string, unknown>): never => fields as never;

const endpoint = (extra: Record<string, unknown> = {}) => ({ NetworkID: 'n1', Aliases: ['web'], DNSNames: ['web', 'ffffffffffff'], ...extra });

const containerInspect = () =>
  view({
    Id: ID,
    HostConfig: { NetworkMode: 'appnet', Annotations: { a: 'b' } },
    Config: { Hostname: 'host1' },
    NetworkSettings: { Networks: { appnet: endpoint(), bridge: endpoint() } },
  });

const containerSummary = (annotations?: Record<string, string>) =>
  view({ Id: ID, HostConfig: { NetworkMode: 'bridge', ...(annotations ? { Annotations: annotations } : {}) }, NetworkSettings: { Networks: { bridge: endpoint({ GwPriority: 5 }) } } });

const imageSummary = (tags: string[]) => view({ Containers: 2, Created: 1, Id: 'sha256:abc', Labels: {}, ParentId: '', RepoDigests: [], RepoTags: tags, SharedSize: -1, Size: 42 });

const imageInspect = () =>
  view({ Id: 'sha256:abc', RepoTags: ['app:1'], RepoDigests: [], Parent: '', Comment: '', DockerVersion: '', Author: '', Config: { Cmd: ['sh'], Env: ['A=1'] }, Size: 42, Container: 'c1', ContainerConfig: {} });

const info = () => view({ ID: 'x', CDISpecDirs: ['/etc/cdi'], Containerd: { Address: '/run/containerd.sock' }, FirewallBackend: { Driver: 'iptables' }, DiscoveredDevices: [], Runtimes: { runc: { path: 'runc', status: { a: 'b' } } } });

const event = (Type: EventMessage['Type'], Action: string): EventMessage => ({ Type, Action, Actor: { ID: 'x', Attributes: {} }, scope: 'local', time: 1, timeNano: 1000000000n });

describe('responses shaped by API version', () => {
  const networkLists: ListNetworksOptions[] = [];
  const createdNetworks: Array<Record<string, unknown>> = [];
  let app: FastifyInstance;
  before(async () => {
    app = await fakeApi({
      containers: {
        inspect: async () => containerInspect(),
        list: () => [containerSummary({ a: 'b' }), containerSummary()],
        prune: async () => ({ ContainersDeleted: null, SpaceReclaimed: 0 }),
        create: async () => ({ Id: ID, Warnings: [] }),
        logs: () => ({ tty: false, details: '', batches: (async function* () {})() }),
      },
      images: {
        list: async () => [imageSummary([]), imageSummary(['app:1'])],
        inspect: async () => imageInspect(),
      },
      system: {
        info: async () => info(),
        df: async () => view({ LayersSize: 0, Images: [], Containers: [containerSummary({ a: 'b' })], Volumes: [], BuildCache: [] }),
        events: () =>
          (async function* () {
            yield event('image', 'create');
            yield event('container', 'start');
          })(),
      },
      networks: {
        list: (_filters, opts) => {
          networkLists.push(opts);
          return [view({ Name: 'appnet', EnableIPv4: true, EnableIPv6: false })];
        },
        inspect: () => view({ Name: 'appnet', EnableIPv4: true, EnableIPv6: false }),
        create: async (opts) => {
          createdNetworks.push({ ...opts });
          return { Id: 'n1', Warning: '' };
        },
      },
      volumes: { prune: async () => ({ VolumesDeleted: [], SpaceReclaimed: 0 }) },
      distribution: { distributionInspect: async () => view({ Descriptor: {}, Platforms: [] }) },
    });
  });
  after(() => app.close());

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
    return res;
  };
  const getJson = async (url: string) => JSON.parse((await get(url)).body);

  it('says its newest version in every answer, and answers unversioned requests in it', async () => {
    const res = await get('/containers/abc/json');
    assert.equal(res.headers['api-version'], '1.51');
    assert.deepEqual(Object.keys(json(res).NetworkSettings as object), ['Networks']);
    assert.equal((json(res).NetworkSettings as { Networks: { appnet: { GwPriority: number } } }).Networks.appnet.GwPriority, 0, 'as 1.51');
  });

  it('container inspect: kernel memory until 1.42, annotations from 1.43, aliases until 1.45, DNSNames from 1.44, GwPriority from 1.48', async () => {
    const old = await getJson('/v1.41/containers/abc/json');
    assert.equal(old.HostConfig.KernelMemory, 0);
    assert.equal(old.HostConfig.KernelMemoryTCP, 0);
    assert.equal('Annotations' in old.HostConfig, false);
    assert.deepEqual(old.NetworkSettings.Networks.appnet, { NetworkID: 'n1', Aliases: ['web', 'ffffffffffff', 'host1'] });
    assert.deepEqual(old.NetworkSettings.Networks.bridge, { NetworkID: 'n1', Aliases: ['web'] }, 'the default bridge gets no extra aliases');
    const v144 = await getJson('/v1.44/containers/abc/json');
    assert.deepEqual(v144.NetworkSettings.Networks.appnet.DNSNames, ['web', 'ffffffffffff']);
    assert.equal('GwPriority' in v144.NetworkSettings.Networks.appnet, false);
    const now = await getJson('/v1.51/containers/abc/json');
    assert.equal('KernelMemory' in now.HostConfig, false);
    assert.deepEqual(now.HostConfig.Annotations, { a: 'b' });
    assert.deepEqual(now.NetworkSettings.Networks.appnet, { ...endpoint(), GwPriority: 0 });
  });

  it('container list (and system df): annotations from 1.46, only when set', async () => {
    const [withA, without] = await getJson('/v1.45/containers/json');
    assert.deepEqual([withA.HostConfig, without.HostConfig], [{ NetworkMode: 'bridge' }, { NetworkMode: 'bridge' }]);
    assert.equal('DNSNames' in withA.NetworkSettings.Networks.bridge, true);
    const now = await getJson('/v1.46/containers/json');
    assert.deepEqual([now[0].HostConfig, now[1].HostConfig], [{ NetworkMode: 'bridge', Annotations: { a: 'b' } }, { NetworkMode: 'bridge' }]);
    const v143 = await getJson('/v1.43/containers/json');
    assert.deepEqual(v143[0].NetworkSettings.Networks.bridge, { NetworkID: 'n1', Aliases: ['web'] }, 'no DNSNames nor GwPriority before 1.44');
    assert.deepEqual((await getJson('/v1.45/system/df')).Containers[0].HostConfig, { NetworkMode: 'bridge' });
    assert.deepEqual((await getJson('/v1.46/system/df')).Containers[0].HostConfig, { NetworkMode: 'bridge', Annotations: { a: 'b' } });
  });

  it('image list: <none> names until 1.43, VirtualSize until 1.44, Containers counted from 1.51', async () => {
    const v142 = await getJson('/v1.42/images/json');
    assert.deepEqual([v142[0].RepoTags, v142[0].RepoDigests], [['<none>:<none>'], ['<none>@<none>']]);
    assert.deepEqual([v142[1].RepoTags, v142[1].RepoDigests], [['app:1'], null]);
    assert.equal(v142[0].VirtualSize, 42);
    assert.equal(v142[0].Containers, -1);
    const v144 = await getJson('/v1.44/images/json');
    assert.deepEqual([v144[0].RepoTags, v144[0].RepoDigests], [[], []]);
    assert.equal('VirtualSize' in v144[0], false);
    assert.equal(v144[0].Containers, -1);
    assert.equal((await getJson('/v1.51/images/json'))[0].Containers, 2);
  });

  it('image inspect: zero Created until 1.44, Container and ContainerConfig until 1.45, the container-only config fields until 1.50', async () => {
    const v143 = await getJson('/v1.43/images/app:1/json');
    assert.equal(v143.Created, '0001-01-01T00:00:00Z');
    assert.equal(v143.VirtualSize, 42);
    assert.equal(v143.Container, 'c1');
    assert.equal(v143.ContainerConfig.Hostname, '');
    assert.equal(v143.Config.Tty, false);
    const v145 = await getJson('/v1.45/images/app:1/json');
    assert.equal('Created' in v145, false);
    assert.equal('Container' in v145, false);
    assert.equal('ContainerConfig' in v145, false);
    assert.equal(v145.Config.Hostname, '');
    const v150 = await getJson('/v1.50/images/app:1/json');
    assert.equal('Hostname' in v150.Config, false);
    assert.deepEqual([v150.Config.Cmd, v150.Config.Entrypoint, v150.Config.WorkingDir], [['sh'], null, '']);
  });

  it('info: fields per version', async () => {
    const v141 = await getJson('/v1.41/info');
    assert.deepEqual([v141.KernelMemory, v141.KernelMemoryTCP, v141.BridgeNfIptables], [false, false, false]);
    assert.equal('CDISpecDirs' in v141, false);
    assert.deepEqual(v141.Runtimes, { runc: { path: 'runc' } });
    assert.equal('Containerd' in v141, false);
    assert.equal('FirewallBackend' in v141, false);
    assert.equal('DiscoveredDevices' in v141, false);
    assert.deepEqual(v141.RegistryConfig, undefined);
    const v146 = await getJson('/v1.46/info');
    assert.deepEqual(v146.CDISpecDirs, ['/etc/cdi']);
    assert.deepEqual(v146.Containerd, { Address: '/run/containerd.sock' });
    assert.equal('KernelMemory' in v146, false);
    const now = await getJson('/v1.51/info');
    assert.deepEqual(now.FirewallBackend, { Driver: 'iptables' });
    assert.deepEqual(now.DiscoveredDevices, []);
    assert.equal('BridgeNfIptables' in now, false);
  });

  it('networks: EnableIPv4 from 1.48 (out and in); containers listed with networks until 1.28', async () => {
    assert.equal('EnableIPv4' in (await getJson('/v1.47/networks'))[0], false);
    assert.equal((await getJson('/v1.48/networks'))[0].EnableIPv4, true);
    assert.equal('EnableIPv4' in (await getJson('/v1.47/networks/appnet')), false);
    assert.equal((await getJson('/v1.48/networks/appnet')).EnableIPv4, true);
    networkLists.length = 0;
    await get('/v1.27/networks');
    await get('/v1.28/networks');
    assert.deepEqual(networkLists, [{ withContainers: true }, { withContainers: false }]);
    createdNetworks.length = 0;
    for (const v of ['1.47', '1.48']) {
      const res = await app.inject({ method: 'POST', url: `/v${v}/networks/create`, payload: { Name: 'n', EnableIPv4: false } });
      assert.equal(res.statusCode, 201, res.body);
    }
    assert.deepEqual(createdNetworks, [{ Name: 'n' }, { Name: 'n', EnableIPv4: false }]);
  });

  it('events: image create events from 1.46', async () => {
    const actions = async (v: string) => (await get(`/v${v}/events`)).body.trim().split('\n').map((l) => `${JSON.parse(l).Type} ${JSON.parse(l).Action}`);
    assert.deepEqual(await actions('1.45'), ['container start']);
    assert.deepEqual(await actions('1.46'), ['image create', 'container start']);
  });

  it('logs without a TTY: raw stream until 1.42, multiplexed from it', async () => {
    assert.equal((await get('/v1.41/containers/abc/logs?stdout=1')).headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.equal((await get('/v1.42/containers/abc/logs?stdout=1')).headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  });

  it('routes exist from their minimum version: prune from 1.25, distribution from 1.30', async () => {
    for (const [url, min] of [['/containers/prune', '1.25'], ['/volumes/prune', '1.25'], ['/networks/prune', '1.25']] as const) {
      const before = await app.inject({ method: 'POST', url: `/v1.24${url}` });
      assert.equal(before.statusCode, 404, url);
      assert.deepEqual(json(before), { message: 'page not found' });
      assert.notEqual((await app.inject({ method: 'POST', url: `/v${min}${url}` })).statusCode, 404, url);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/v1.29/distribution/app/json' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/v1.30/distribution/app/json' })).statusCode, 200);
  });

  it('create: one network endpoint at most until 1.44', async () => {
    const payload = { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { a: {}, b: {} } } };
    const old = await app.inject({ method: 'POST', url: '/v1.43/containers/create', payload });
    assert.equal(old.statusCode, 400);
    assert.deepEqual(json(old), { message: 'Container cannot be created with multiple network endpoints: a, b' });
    assert.equal((await app.inject({ method: 'POST', url: '/v1.44/containers/create', payload })).statusCode, 201);
  });
});
