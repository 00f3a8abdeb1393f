/**
 * Dual-stack user networks, compared with dockerd 20.10: `network create --ipv6` with an IPv4 and
 * an IPv6 subnet, `--ip6`, addresses in inspect and inside the container, the hosts lines, and
 * AAAA answers from the embedded DNS for names and aliases. Only ULA prefixes (fd00::/8) chosen
 * at random, on bridges this test creates; traffic stays on the bridge.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { freeSubnet } from './free-subnet';
import { startBerth, type Berth } from '../harness';

const rand = () => randomBytes(3).toString('hex');
/** A random ULA /64 (never fd00::/64, which hosts here may use). */
// Groups of four hex digits with no leading zero, so the prefix is already in canonical form.
const group = () => (0x1000 + (randomBytes(2).readUInt16BE() % 0xf000)).toString(16);
const ula = () => `fd${randomBytes(1).toString('hex')}:${group()}:${group()}:1`;

describe('IPv6 (dual-stack) networks', () => {
  let berth: Berth;

  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('creates a dual-stack network, gives containers both addresses and answers AAAA', () => {
    const net = `v6${rand()}`;
    const prefix = ula();
    const v4 = freeSubnet(189).replace(/\.0\/24$/, '');
    berth.ok(['network', 'create', '--ipv6', '--subnet', `${v4}.0/24`, '--subnet', `${prefix}::/64`, net]);
    const [n] = JSON.parse(berth.ok(['network', 'inspect', net]));
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: `${v4}.0/24` }, { Subnet: `${prefix}::/64` }]);

    const fixed = `fx${rand()}`;
    const dyn = `dy${rand()}`;
    berth.ok(['run', '-d', '--name', fixed, '--network', net, '--network-alias', 'six-alias', '--ip6', `${prefix}::99`, 'busybox', 'sleep', '300']);
    berth.ok(['run', '-d', '--name', dyn, '--network', net, 'busybox', 'sleep', '300']);
    const [c] = JSON.parse(berth.ok(['inspect', fixed]));
    const ep = c.NetworkSettings.Networks[net];
    assert.equal(ep.GlobalIPv6Address, `${prefix}::99`);
    assert.equal(ep.GlobalIPv6PrefixLen, 64);
    assert.equal(ep.IPv6Gateway, `${prefix}::1`);
    assert.deepEqual(ep.IPAMConfig, { IPv6Address: `${prefix}::99` });
    assert.ok(ep.IPAddress.startsWith(`${v4}.`));

    const addrs = berth.ok(['exec', fixed, 'ip', 'addr', 'show', 'eth0']);
    assert.match(addrs, new RegExp(`inet6 ${prefix}::99/64 scope global`));
    assert.match(addrs, new RegExp(`inet ${ep.IPAddress.replace(/\./g, '\\.')}/24`));
    const hosts = berth.ok(['exec', fixed, 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`^${prefix}::99\t${c.Config.Hostname}$`, 'm'));

    const [d] = JSON.parse(berth.ok(['inspect', dyn]));
    const dyn6 = d.NetworkSettings.Networks[net].GlobalIPv6Address as string;
    assert.ok(dyn6.startsWith(`${prefix}::`), dyn6);
    const [n2] = JSON.parse(berth.ok(['network', 'inspect', net]));
    assert.equal(n2.Containers[c.Id].IPv6Address, `${prefix}::99/64`);

    for (const name of [fixed, 'six-alias']) {
      const aaaa = berth.ok(['exec', dyn, 'nslookup', '-type=aaaa', name]);
      assert.match(aaaa, new RegExp(`Address: ${prefix}::99`), `AAAA for ${name}`);
    }
    const ping = berth.ok(['exec', dyn, 'ping', '-6', '-c', '1', '-W', '3', fixed]);
    assert.match(ping, /1 packets received/);

    const clash = berth.docker(['run', '--rm', '--network', net, '--ip6', `${prefix}::99`, 'busybox', 'true']);
    assert.notEqual(clash.code, 0, 'an IPv6 address is never handed out twice');
    berth.ok(['rm', '-f', fixed, dyn]);
    berth.ok(['network', 'rm', net]);
  });

  it('keeps an IPv6 subnet without --ipv6 IPv4-only, and refuses two IPv6 subnets', () => {
    const net = `v4${rand()}`;
    const prefix = ula();
    berth.ok(['network', 'create', '--subnet', `${prefix}::/64`, net]);
    const [n] = JSON.parse(berth.ok(['network', 'inspect', net]));
    assert.equal(n.EnableIPv6, false);
    assert.equal(n.IPAM.Config.length, 2);
    assert.deepEqual(n.IPAM.Config[1], { Subnet: `${prefix}::/64` });
    assert.doesNotMatch(berth.ok(['run', '--rm', '--network', net, 'busybox', 'ip', 'addr', 'show', 'eth0']), /inet6 fd/);
    berth.ok(['network', 'rm', net]);
    const two = berth.docker(['network', 'create', '--ipv6', '--subnet', `${ula()}::/64`, '--subnet', `${ula()}::/64`, `x${rand()}`]);
    assert.match(two.stderr, /bridge driver doesn't support multiple subnets/);
  });
});
