import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { HostNetwork } from '../../../../src/engine/networks/host-networks';
import { NetworkService, type NetworkServiceDeps } from '../../../../src/engine/networks/network-service';
import type { NetworkEndpoint } from '../../../../src/engine/networks/types';
import { KEY, PREFIX } from '../../../../src/engine/store/schema';
import { Store } from '../../../../src/engine/store/store';
import type { BridgeNetworkSpec } from '../../../../src/network/types';

/**
 * A stand-in for the bridge/CNI plumbing, which has its own tests: it only records what the
 * service asked for, and fails when told to.
 */
class RecordingPlumbing {
  calls: Array<{ op: 'ensure' | 'remove'; spec: BridgeNetworkSpec }> = [];
  failEnsure?: string;
  async ensureNetwork(spec: BridgeNetworkSpec) {
    this.calls.push({ op: 'ensure', spec });
    if (this.failEnsure === spec.name) throw new Error('bridge said no');
  }
  async removeNetwork(spec: BridgeNetworkSpec) {
    this.calls.push({ op: 'remove', spec });
  }
  ops() {
    return this.calls.map((c) => `${c.op} ${c.spec.name}`);
  }
}

interface Harness {
  store: Store;
  plumbing: RecordingPlumbing;
  endpoints: Map<string, NetworkEndpoint[]>;
  host: HostNetwork[];
  service: NetworkService;
  /** A new service on the same store (a daemon restart), initialised. */
  restart(defaults?: Partial<NetworkServiceDeps['defaults']>): Promise<NetworkService>;
}

async function withService(fn: (h: Harness) => Promise<void>, defaults: Partial<NetworkServiceDeps['defaults']> = {}, host: HostNetwork[] = []) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-networks-'));
  const store = new Store(join(dir, 'db'));
  await store.open();
  const plumbing = new RecordingPlumbing();
  const endpoints = new Map<string, NetworkEndpoint[]>();
  const make = (d: Partial<NetworkServiceDeps['defaults']>) =>
    new NetworkService({
      store,
      log: pino({ level: 'silent' }),
      plumbing,
      defaults: { bridgeName: 'berth0', iptables: true, ...d },
      endpointsOf: (id) => endpoints.get(id) ?? [],
      hostNetworks: async () => h.host,
    });
  const h: Harness = {
    store,
    plumbing,
    endpoints,
    host,
    service: make(defaults),
    async restart(d = defaults) {
      h.service = make(d);
      await h.service.init();
      return h.service;
    },
  };
  try {
    await h.service.init();
    await fn(h);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const err = (name: string, message: string | RegExp) => ({ name, message });

describe('NetworkService: predefined networks', () => {
  it('creates bridge, host and none with random IDs, persisted across restarts', () =>
    withService(async (h) => {
      const list = h.service.list({});
      assert.deepEqual(list.map((n) => [n.Name, n.Driver]), [['bridge', 'bridge'], ['host', 'host'], ['none', 'null']]);
      for (const n of list) assert.match(n.Id, /^[0-9a-f]{64}$/);
      const bridge = h.service.inspect('bridge');
      assert.deepEqual(bridge.Options, {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': 'berth0',
        'com.docker.network.driver.mtu': '1500',
      });
      assert.deepEqual(bridge.IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }] });
      assert.deepEqual(h.service.inspect('host').IPAM, { Driver: 'default', Options: null, Config: null });
      assert.deepEqual(h.plumbing.calls, [
        { op: 'ensure', spec: { id: bridge.Id, name: 'bridge', bridge: 'berth0', subnet: '172.17.0.0/16', gateway: '172.17.0.1', internal: false, ipMasq: true, dns: false, mtu: 1500 } },
      ]);
      const ids = list.map((n) => n.Id);
      const again = await h.restart();
      assert.deepEqual(again.list({}).map((n) => n.Id), ids);
      assert.equal((await h.store.list(PREFIX.network)).length, 3);
    }));

  it('keeps clear of the subnets the host uses (docker0 of a running dockerd)', () =>
    withService(
      async (h) => {
        assert.deepEqual(h.service.inspect('bridge').IPAM.Config, [{ Subnet: '172.19.0.0/16', Gateway: '172.19.0.1' }]);
      },
      {},
      [{ cidr: '172.17.0.0/16', iface: 'docker0' }, { cidr: '172.18.3.0/24', iface: 'eth0' }],
    ));

  it('uses --bip and --bridge, and follows them when they change', () =>
    withService(
      async (h) => {
        const bridge = h.service.inspect('bridge');
        assert.deepEqual(bridge.IPAM.Config, [{ Subnet: '172.29.0.0/16', Gateway: '172.29.0.1' }]);
        assert.equal(bridge.Options['com.docker.network.bridge.name'], 'bt0');
        await h.restart({ bridgeName: 'bt1', bip: '10.77.0.9/24' });
        const after = h.service.inspect('bridge');
        assert.equal(after.Id, bridge.Id);
        assert.deepEqual(after.IPAM.Config, [{ Subnet: '10.77.0.0/24', Gateway: '10.77.0.9' }]);
        assert.equal(after.Options['com.docker.network.bridge.name'], 'bt1');
        assert.equal(h.plumbing.calls.at(-1)!.spec.bridge, 'bt1');
      },
      { bridgeName: 'bt0', bip: '172.29.0.1/16' },
    ));

  it('keeps its subnet on restart unless the host has taken it meanwhile', () =>
    withService(async (h) => {
      assert.equal(h.service.inspect('bridge').IPAM.Config![0].Subnet, '172.17.0.0/16');
      // Its own route on berth0 is no conflict.
      h.host.push({ cidr: '172.17.0.0/16', iface: 'berth0' });
      await h.restart();
      assert.equal(h.service.inspect('bridge').IPAM.Config![0].Subnet, '172.17.0.0/16');
      h.host.push({ cidr: '172.17.0.0/16', iface: 'docker0' });
      await h.restart();
      assert.equal(h.service.inspect('bridge').IPAM.Config![0].Subnet, '172.18.0.0/16');
    }));

  it('refuses a bad --bip, and fails to start when the default bridge cannot be set up', async () => {
    await assert.rejects(withService(async () => undefined, { bip: '172.29.0.0/16' }), /invalid --bip 172\.29\.0\.0\/16/);
    await assert.rejects(withService(async () => undefined, { bip: 'nonsense' }), /invalid --bip nonsense/);
    await withService(async (h) => {
      h.plumbing.failEnsure = 'bridge';
      await assert.rejects(h.restart(), /cannot set up the default bridge network: bridge said no/);
    });
  });

  it('cannot be removed or recreated', () =>
    withService(async (h) => {
      for (const name of ['bridge', 'host', 'none']) {
        await assert.rejects(h.service.remove(name), err('ForbiddenError', `${name} is a pre-defined network and cannot be removed`));
        await assert.rejects(h.service.create({ Name: name }), err('ForbiddenError', `operation is not permitted on predefined ${name} network `));
      }
    }));
});

describe('NetworkService: create', () => {
  it('allocates the next free pool, creates the bridge, then stores the network', () =>
    withService(async (h) => {
      const { Id, Warning } = await h.service.create({ Name: 'app', IPAM: { Driver: 'default', Config: [], Options: {} }, Labels: { a: 'b' } });
      assert.equal(Warning, '');
      const n = h.service.inspect('app');
      assert.equal(n.Id, Id);
      assert.deepEqual(n.IPAM, { Driver: 'default', Options: {}, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] });
      assert.deepEqual(n.Options, {});
      assert.deepEqual(n.Labels, { a: 'b' });
      assert.deepEqual(
        { Scope: n.Scope, Driver: n.Driver, EnableIPv4: n.EnableIPv4, EnableIPv6: n.EnableIPv6, Internal: n.Internal, Attachable: n.Attachable, Ingress: n.Ingress, ConfigFrom: n.ConfigFrom, ConfigOnly: n.ConfigOnly, Containers: n.Containers },
        { Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {} },
      );
      assert.match(n.Created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
      assert.deepEqual(h.plumbing.calls.at(-1), {
        op: 'ensure',
        spec: { id: Id, name: 'app', bridge: `br-${Id.slice(0, 12)}`, subnet: '172.18.0.0/16', gateway: '172.18.0.1', internal: false, ipMasq: true, dns: true },
      });
      assert.equal(((await h.store.get(KEY.network(Id))) as { name: string }).name, 'app');
      // Without IPAM in the request, IPAM.Options is null (as dockerd); the next pool is used.
      await h.service.create({ Name: 'second' });
      assert.deepEqual(h.service.inspect('second').IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '172.19.0.0/16', Gateway: '172.19.0.1' }] });
    }));

  it('echoes what the client sent: options, IPAM entries, internal, attachable', () =>
    withService(async (h) => {
      const options = { 'com.docker.network.bridge.name': 'br-mine', 'com.docker.network.bridge.enable_ip_masquerade': 'false', 'com.docker.network.driver.mtu': '1400', 'x.y': 'z' };
      await h.service.create({
        Name: 'custom',
        Internal: true,
        Attachable: true,
        Options: options,
        IPAM: { Config: [{ Subnet: '10.9.0.0/16', IPRange: '10.9.8.0/24', Gateway: '', AuxiliaryAddresses: { r: '10.9.0.3' } }] },
        EnableIPv6: false,
      });
      const n = h.service.inspect('custom');
      assert.deepEqual(n.Options, options);
      assert.deepEqual(n.IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '10.9.0.0/16', IPRange: '10.9.8.0/24', AuxiliaryAddresses: { r: '10.9.0.3' } }] });
      assert.equal(n.Internal, true);
      assert.equal(n.Attachable, true);
      assert.deepEqual(h.plumbing.calls.at(-1)!.spec, {
        id: n.Id, name: 'custom', bridge: 'br-mine', subnet: '10.9.0.0/16', gateway: '10.9.8.0', ipRange: '10.9.8.0/24', internal: true, ipMasq: false, dns: true, mtu: 1400,
      });
      const spec = h.service.specOf(h.service.get('custom'));
      assert.equal(spec.gateway, '10.9.8.0');
    }));

  it('masquerades only with --iptables, never on internal networks', () =>
    withService(
      async (h) => {
        await h.service.create({ Name: 'a' });
        assert.equal(h.service.specOf(h.service.get('a')).ipMasq, false);
        assert.equal(h.service.specOf(h.service.get('bridge')).ipMasq, false);
      },
      { iptables: false },
    ));

  it("refuses names in use and blank names with dockerd's messages", () =>
    withService(async (h) => {
      await h.service.create({ Name: 'dup' });
      await assert.rejects(h.service.create({ Name: 'dup', CheckDuplicate: false }), err('ConflictError', 'network with name dup already exists'));
      await assert.rejects(h.service.create({ Name: '' }), err('InvalidParameterError', 'invalid name: name is empty'));
      await assert.rejects(h.service.create({}), err('InvalidParameterError', 'invalid name: name is empty'));
    }));

  it('serializes concurrent creates of one name', () =>
    withService(async (h) => {
      const results = await Promise.allSettled([h.service.create({ Name: 'race' }), h.service.create({ Name: 'race' })]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      assert.equal(h.service.list({ name: ['^race$'] }).length, 1);
    }));

  it('rejects drivers other than bridge as dockerd would, or as unsupported', () =>
    withService(async (h) => {
      await assert.rejects(h.service.create({ Name: 'h', Driver: 'host' }), err('ForbiddenError', 'only one instance of "host" network is allowed'));
      await assert.rejects(h.service.create({ Name: 'n', Driver: 'null' }), err('ForbiddenError', 'only one instance of "null" network is allowed'));
      await assert.rejects(h.service.create({ Name: 'o', Driver: 'overlay' }), err('ForbiddenError', /^This node is not a swarm manager/));
      await assert.rejects(h.service.create({ Name: 'm', Driver: 'macvlan' }), err('NotImplementedError', /"macvlan" network driver is not supported/));
      await assert.rejects(h.service.create({ Name: 'x', Driver: 'weave' }), err('NotFoundError', 'plugin "weave" not found'));
      await assert.rejects(h.service.create({ Name: 'i', IPAM: { Driver: 'infoblox' } }), err('NotFoundError', 'plugin "infoblox" not found'));
    }));

  it('creates dual-stack networks: given or allocated IPv6 subnets, checked like dockerd', () =>
    withService(async (h) => {
      await h.service.create({ Name: 'ds', EnableIPv6: true, IPAM: { Config: [{ Subnet: '10.77.0.0/24' }, { Subnet: 'fd12:3456:789a:1::/64' }] } });
      const ds = h.service.inspect('ds');
      assert.equal(ds.EnableIPv6, true);
      assert.deepEqual(ds.IPAM.Config, [{ Subnet: '10.77.0.0/24' }, { Subnet: 'fd12:3456:789a:1::/64' }]);
      assert.deepEqual(h.service.specOf(h.service.get('ds')).ipv6, { subnet: 'fd12:3456:789a:1::/64', gateway: 'fd12:3456:789a:1::1' });
      // --ipv6 alone: a ULA /64 of its own, shown with its gateway after the IPv4 entry.
      await h.service.create({ Name: 'auto6', Options: { 'com.docker.network.enable_ipv6': 'true' } });
      const auto = h.service.inspect('auto6').IPAM.Config!;
      assert.equal(auto.length, 2);
      assert.match(auto[1].Subnet!, /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
      // An IPv6 subnet without --ipv6 is kept as given but not used.
      await h.service.create({ Name: 'no6', IPAM: { Config: [{ Subnet: 'fd12:3456:789a:2::/64' }] } });
      assert.equal(h.service.inspect('no6').EnableIPv6, false);
      assert.equal(h.service.specOf(h.service.get('no6')).ipv6, undefined);
      await assert.rejects(
        h.service.create({ Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd12:3456:789a:1:1::/80' }] } }),
        err('ForbiddenError', 'invalid pool request: Pool overlaps with other one on this address space'),
      );
      await assert.rejects(
        h.service.create({ Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd12::/64' }, { Subnet: 'fd13::/64' }] } }),
        err('ForbiddenError', "bridge driver doesn't support multiple subnets"),
      );
      await assert.rejects(
        h.service.create({ Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd14::1/64', Gateway: 'fd15::1' }] } }),
        err('InvalidParameterError', "invalid network config:\n* invalid subnet fd14::1/64: it should be fd14::/64\n* invalid gateway fd15::1: parent subnet fd14::/64 doesn't contain this address"),
      );
    }));

  it('rejects what Berth does not support: swarm scopes, config-only networks', () =>
    withService(async (h) => {
      await assert.rejects(h.service.create({ Name: 'v6', Options: { 'com.docker.network.enable_ipv6': 'maybe' } }), err('InvalidParameterError', 'driver-opt "com.docker.network.enable_ipv6" is not a valid bool'));
      await assert.rejects(h.service.create({ Name: 'no-ip', EnableIPv4: false }), err('InvalidParameterError', 'IPv4 or IPv6 must be enabled'));
      await assert.rejects(h.service.create({ Name: 's', Scope: 'swarm' }), err('NotImplementedError', /scope "swarm"/));
      await assert.rejects(h.service.create({ Name: 'c', ConfigOnly: true }), err('NotImplementedError', 'config-only networks are not supported by Berth'));
      // An explicit EnableIPv6=false wins over the option, which then is not echoed.
      await h.service.create({ Name: 'v4', EnableIPv6: false, Options: { 'com.docker.network.enable_ipv6': 'true', keep: 'me' } });
      assert.deepEqual(h.service.inspect('v4').Options, { keep: 'me' });
      assert.equal(h.plumbing.calls.filter((c) => c.spec.name !== 'bridge').length, 1, 'nothing was created for refused requests');
    }));

  it('refuses overlapping subnets, duplicate bridge names and bad addresses', () =>
    withService(async (h) => {
      const { Id: a } = await h.service.create({ Name: 'a', IPAM: { Config: [{ Subnet: '10.1.0.0/16' }] }, Options: { 'com.docker.network.bridge.name': 'br-a' } });
      await assert.rejects(
        h.service.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.1.2.0/24' }] } }),
        err('ForbiddenError', 'invalid pool request: Pool overlaps with other one on this address space'),
      );
      await assert.rejects(h.service.create({ Name: 'b', IPAM: { Config: [{ Subnet: '172.17.0.0/16' }] } }), err('ForbiddenError', /Pool overlaps/));
      await assert.rejects(
        h.service.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.1.0.0/16', IPRange: '10.1.5.0/24' }] }, Options: { 'com.docker.network.bridge.name': 'br-b' } }),
        err('ForbiddenError', new RegExp(`^cannot create network [0-9a-f]{64} \\(br-b\\): conflicts with network ${a} \\(br-a\\): networks have overlapping IPv4$`)),
      );
      await assert.rejects(
        h.service.create({ Name: 'b', Options: { 'com.docker.network.bridge.name': 'br-a' } }),
        err('ForbiddenError', new RegExp(`conflicts with network ${a} \\(br-a\\): networks have same bridge name$`)),
      );
      await assert.rejects(h.service.create({ Name: 'b', Options: { 'com.docker.network.bridge.name': 'berth0' } }), err('ForbiddenError', /networks have same bridge name/));
      await assert.rejects(
        h.service.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.2.0.0/16' }, { Subnet: '10.3.0.0/16' }] } }),
        err('ForbiddenError', "bridge driver doesn't support multiple subnets"),
      );
      await assert.rejects(h.service.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.2.0.0/16', Gateway: '10.2.0.0' }] } }), err('InvalidParameterError', 'failed to allocate gateway (10.2.0.0): Address already in use'));
      await assert.rejects(h.service.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.2.0.1/16' }] } }), err('InvalidParameterError', 'invalid network config:\n* invalid subnet 10.2.0.1/16: it should be 10.2.0.0/16'));
      await assert.rejects(h.service.create({ Name: 'b', Options: { 'com.docker.network.driver.mtu': 'big' } }), err('InvalidParameterError', /^failed to parse com\.docker\.network\.driver\.mtu value: big/));
      assert.deepEqual(h.service.list({ type: ['custom'] }).map((n) => n.Name), ['a']);
    }));

  it('skips host subnets when allocating, but not the routes of its own bridges', () =>
    withService(async (h) => {
      await h.service.create({ Name: 'one' });
      const one = h.service.get('one');
      h.host.push({ cidr: '172.18.0.0/16', iface: one.bridge!.device }, { cidr: '172.19.0.0/16', iface: 'docker_gwbridge' });
      await h.service.create({ Name: 'two' });
      assert.equal(h.service.get('two').bridge!.subnet, '172.20.0.0/16');
    }));

  it('stores nothing when the bridge cannot be created', () =>
    withService(async (h) => {
      h.plumbing.failEnsure = 'broken';
      await assert.rejects(h.service.create({ Name: 'broken' }), /bridge said no/);
      assert.throws(() => h.service.get('broken'), err('NotFoundError', 'network broken not found'));
      assert.equal((await h.store.list(PREFIX.network)).length, 3);
      h.plumbing.failEnsure = undefined;
      await h.service.create({ Name: 'broken' });
      assert.equal(h.service.get('broken').bridge!.subnet, '172.18.0.0/16');
    }));
});

describe('NetworkService: lookup, inspect and list', () => {
  it('finds by full ID, name, then unique ID prefix', () =>
    withService(async (h) => {
      const { Id } = await h.service.create({ Name: 'web' });
      assert.equal(h.service.get(Id).name, 'web');
      assert.equal(h.service.get('web').id, Id);
      assert.equal(h.service.get(Id.slice(0, 12)).name, 'web');
      assert.throws(() => h.service.get('nope'), err('NotFoundError', 'network nope not found'));
      assert.throws(() => h.service.inspect('nope'), err('NotFoundError', 'network nope not found'));
      assert.throws(() => h.service.inspect('web', { scope: 'swarm' }), err('NotFoundError', 'network web not found'));
      assert.equal(h.service.inspect('web', { scope: 'local', verbose: true }).Id, Id);
      // The empty prefix matches every network.
      assert.throws(() => h.service.get(''), err('InvalidParameterError', 'network  is ambiguous (4 matches found based on ID prefix)'));
      assert.throws(() => h.service.inspect(''), err('InvalidParameterError', '4 matches found based on ID prefix: network  is ambiguous'));
    }));

  it('a name wins over an ID prefix', () =>
    withService(async (h) => {
      const bridgeId = h.service.get('bridge').id;
      await h.service.create({ Name: bridgeId.slice(0, 6) });
      assert.equal(h.service.get(bridgeId.slice(0, 6)).name, bridgeId.slice(0, 6));
      assert.equal(h.service.get(bridgeId.slice(0, 7)).name, 'bridge');
    }));

  it('shows attached containers in inspect, and in lists only when asked', () =>
    withService(async (h) => {
      const { Id } = await h.service.create({ Name: 'web' });
      h.endpoints.set(Id, [{ containerId: 'c'.repeat(64), name: '/app', endpointId: 'e'.repeat(64), mac: '02:42:ac:12:00:02', ipv4: '172.18.0.2/16' }]);
      const expected = { ['c'.repeat(64)]: { Name: 'app', EndpointID: 'e'.repeat(64), MacAddress: '02:42:ac:12:00:02', IPv4Address: '172.18.0.2/16', IPv6Address: '' } };
      assert.deepEqual(h.service.inspect('web').Containers, expected);
      assert.deepEqual(h.service.list({ name: ['web'] })[0].Containers, {});
      assert.deepEqual(h.service.list({ name: ['web'] }, { withContainers: true })[0].Containers, expected);
      assert.deepEqual(h.service.list({ dangling: ['true'] }).map((n) => n.Name), []);
      assert.throws(() => h.service.list({ color: ['red'] }), err('InvalidParameterError', "invalid filter 'color'"));
    }));
});

describe('NetworkService: remove and prune', () => {
  it('removes the bridge and the record', () =>
    withService(async (h) => {
      const { Id } = await h.service.create({ Name: 'gone' });
      await h.service.remove(Id.slice(0, 10));
      assert.deepEqual(h.plumbing.ops().slice(-1), ['remove gone']);
      assert.equal(await h.store.get(KEY.network(Id)), undefined);
      await assert.rejects(h.service.remove('gone'), err('NotFoundError', 'network gone not found'));
      // The subnet is free again.
      await h.service.create({ Name: 'again' });
      assert.equal(h.service.get('again').bridge!.subnet, '172.18.0.0/16');
    }));

  it("refuses while containers are attached, naming them as dockerd does", () =>
    withService(async (h) => {
      const { Id } = await h.service.create({ Name: 'busy' });
      h.endpoints.set(Id, [
        { containerId: 'c1', name: '/one', endpointId: '0123456789abcdef'.repeat(4), mac: '', ipv4: '' },
        { containerId: 'c2', name: 'two', endpointId: 'fedcba9876543210'.repeat(4), mac: '', ipv4: '' },
      ]);
      await assert.rejects(
        h.service.remove('busy'),
        err('ForbiddenError', 'error while removing network: network busy has active endpoints (name:"one" id:"0123456789ab", name:"two" id:"fedcba987654")'),
      );
      assert.equal(h.service.get('busy').id, Id);
    }));

  it('prunes unused user networks matching the filters, and returns their names', () =>
    withService(async (h) => {
      const { Id: used } = await h.service.create({ Name: 'used' });
      h.endpoints.set(used, [{ containerId: 'c', name: 'c', endpointId: 'e'.repeat(64), mac: '', ipv4: '' }]);
      await h.service.create({ Name: 'keep', Labels: { keep: '1' } });
      await h.service.create({ Name: 'old', Labels: { app: 'x' } });
      await h.service.create({ Name: 'other', Labels: { app: 'y' } });
      assert.deepEqual(await h.service.prune({ label: ['app=x'] }), { NetworksDeleted: ['old'] });
      assert.deepEqual(await h.service.prune({ until: ['1h'] }), { NetworksDeleted: null });
      assert.deepEqual(await h.service.prune({ 'label!': ['keep'] }), { NetworksDeleted: ['other'] });
      assert.deepEqual(await h.service.prune({}), { NetworksDeleted: ['keep'] });
      assert.deepEqual(h.service.list({}).map((n) => n.Name), ['bridge', 'host', 'none', 'used']);
      await assert.rejects(h.service.prune({ dangling: ['true'] }), err('InvalidParameterError', "invalid filter 'dangling'"));
    }));
});

describe('NetworkService: restart', () => {
  it('ensures every bridge again, default first, after an optional cleanup step', () =>
    withService(async (h) => {
      await h.service.create({ Name: 'u1' });
      await h.service.create({ Name: 'u2' });
      h.plumbing.calls = [];
      const seen: string[][] = [];
      const service = new NetworkService({
        store: h.store,
        log: pino({ level: 'silent' }),
        plumbing: h.plumbing,
        defaults: { bridgeName: 'berth0', iptables: true },
        endpointsOf: () => [],
        hostNetworks: async () => [],
      });
      await service.init({
        beforeEnsure: async (specs) => {
          seen.push(specs.map((s) => s.name));
          assert.equal(h.plumbing.calls.length, 0);
        },
      });
      assert.deepEqual(seen, [['bridge', 'u1', 'u2']]);
      assert.deepEqual(h.plumbing.ops(), ['ensure bridge', 'ensure u1', 'ensure u2']);
      assert.deepEqual(service.bridgeSpecs().map((s) => s.name), ['bridge', 'u1', 'u2']);
    }));

  it('keeps going when a user network cannot be set up', () =>
    withService(async (h) => {
      await h.service.create({ Name: 'flaky' });
      h.plumbing.failEnsure = 'flaky';
      await h.restart();
      assert.equal(h.service.get('flaky').name, 'flaky');
    }));

  it('refuses specs for networks without a bridge', () =>
    withService(async (h) => {
      assert.throws(() => h.service.specOf(h.service.get('host')), /not a bridge network/);
    }));
});
