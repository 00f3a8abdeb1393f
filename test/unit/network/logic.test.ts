/** Network logic that needs no kernel: addresses, the conflist, host rules, DNS answers, ports. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { buildConflist } from '../../../src/network/conflist';
import { parseUpstream } from '../../../src/network/dns-forward';
import { DnsServer } from '../../../src/network/dns-server';
import { NetworkPlumbingError } from '../../../src/network/errors';
import { hostChainNames, renderHostRules } from '../../../src/network/host-rules';
import { cidrContains, hostRange, isHostAddress, parseCidr } from '../../../src/network/ipv4';
import { cidr6Contains, cidr6Overlaps, formatCidr6, formatIpv6, isMaskedCidr6, lastAddress6, nthAddress6, parseCidr6, parseIpv6 } from '../../../src/network/ipv6';
import { PortReservations } from '../../../src/network/port-allocator';
import type { BridgeNetworkSpec } from '../../../src/network/types';
import { checkAttachRequest, checkNetworkSpec, checkStaticIp } from '../../../src/network/validate';
import { normalizeIptables, silentLog } from './fixtures';

const spec: BridgeNetworkSpec = {
  id: 'a'.repeat(64),
  name: 'front',
  bridge: 'br-aaaaaaaaaaaa',
  subnet: '172.30.0.0/16',
  gateway: '172.30.0.1',
  internal: false,
  ipMasq: true,
  dns: true,
};

describe('IPv6 helpers', () => {
  it('parses, prints (RFC 5952) and compares IPv6 addresses and prefixes', () => {
    assert.equal(formatIpv6(parseIpv6('FD00:0DB8:0000:0000:0000:0000:0000:0001')!), 'fd00:db8::1');
    assert.equal(formatIpv6(parseIpv6('::')!), '::');
    assert.equal(formatIpv6(parseIpv6('1:0:0:1:0:0:0:1')!), '1:0:0:1::1');
    assert.equal(formatIpv6(parseIpv6('::ffff:10.1.2.3')!), '::ffff:a01:203');
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'fd00::g', '10.0.0.1', ':1']) assert.equal(parseIpv6(bad), undefined, bad);
    const c = parseCidr6('fd00:db8:1::7/64')!;
    assert.equal(formatCidr6(c), 'fd00:db8:1::/64');
    assert.equal(isMaskedCidr6('fd00:db8:1::7/64'), false);
    assert.equal(isMaskedCidr6('fd00:db8:1::/64'), true);
    assert.ok(cidr6Contains(c, 'fd00:db8:1::ffff'));
    assert.ok(!cidr6Contains(c, 'fd00:db8:2::1'));
    assert.ok(cidr6Overlaps(c, parseCidr6('fd00:db8::/32')!));
    assert.ok(!cidr6Overlaps(c, parseCidr6('fd00:db8:2::/64')!));
    assert.equal(nthAddress6(c, 1), 'fd00:db8:1::1');
    assert.equal(lastAddress6(parseCidr6('fd00:db8:1::/120')!), 'fd00:db8:1::ff');
  });

  it('gives a dual-stack network one host-local range per family', () => {
    const dual = { ...spec, ipv6: { subnet: 'fd00:db8:1::/64', gateway: 'fd00:db8:1::1', ipRange: 'fd00:db8:1::/120' } };
    checkNetworkSpec(dual);
    const ipam = buildConflist(dual, { ipamDir: '/x', iptables: true }).plugins[0].ipam as { ranges: unknown[][] };
    assert.deepEqual(ipam.ranges, [
      [{ subnet: '172.30.0.0/16', gateway: '172.30.0.1' }],
      [{ subnet: 'fd00:db8:1::/64', gateway: 'fd00:db8:1::1', rangeStart: 'fd00:db8:1::1', rangeEnd: 'fd00:db8:1::ff' }],
    ]);
    assert.throws(() => checkNetworkSpec({ ...spec, ipv6: { subnet: 'fd00:db8:1::/64', gateway: 'fd00:db8:2::1' } }));
    checkStaticIp(dual, 'fd00:db8:1::99');
    assert.throws(() => checkStaticIp(dual, 'fd00:db8:2::99'), /does not belong/);
    assert.throws(() => checkStaticIp(dual, 'fd00:db8:1:0::1'), /already in use/);
  });
});

describe('IPv4 helpers', () => {
  it('parses CIDRs, membership and host ranges', () => {
    const s = parseCidr('10.199.5.0/24');
    assert.ok(cidrContains(s, '10.199.5.77'));
    assert.ok(!cidrContains(s, '10.199.6.1'));
    assert.ok(!isHostAddress(s, '10.199.5.0'));
    assert.ok(!isHostAddress(s, '10.199.5.255'));
    assert.deepEqual(hostRange(s, parseCidr('10.199.5.128/25')), { start: '10.199.5.128', end: '10.199.5.254' });
    assert.deepEqual(hostRange(s, parseCidr('10.199.5.0/28')), { start: '10.199.5.1', end: '10.199.5.15' });
    assert.throws(() => parseCidr('10.199.5.0/33'));
    assert.throws(() => parseCidr('300.1.1.1/8'));
  });
});

describe('conflist', () => {
  it('is bridge + portmap with host-local over the subnet, ipRange as rangeStart/rangeEnd', () => {
    const list = buildConflist({ ...spec, ipRange: '172.30.5.0/24', mtu: 1400 }, { ipamDir: '/d/ipam', iptables: true });
    assert.equal(list.cniVersion, '1.0.0');
    assert.equal(list.name, spec.id);
    assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap']);
    const [bridge, portmap] = list.plugins;
    assert.equal(bridge.bridge, spec.bridge);
    assert.equal(bridge.isGateway, true);
    assert.equal(bridge.isDefaultGateway, true);
    assert.equal(bridge.ipMasq, false);
    assert.equal(bridge.hairpinMode, true);
    assert.equal(bridge.mtu, 1400);
    assert.deepEqual(bridge.capabilities, { mac: true, ips: true });
    assert.deepEqual(bridge.ipam, {
      type: 'host-local',
      ranges: [[{ subnet: '172.30.0.0/16', gateway: '172.30.0.1', rangeStart: '172.30.5.0', rangeEnd: '172.30.5.255' }]],
      dataDir: '/d/ipam',
    });
    assert.deepEqual(portmap, { type: 'portmap', capabilities: { portMappings: true }, snat: true });
  });

  it('static addresses allocate from the whole subnet; internal networks get no default route and no portmap', () => {
    const whole = buildConflist({ ...spec, ipRange: '172.30.5.0/24' }, { ipamDir: '/d', iptables: true, wholeSubnet: true });
    assert.deepEqual((whole.plugins[0].ipam as { ranges: unknown }).ranges, [[{ subnet: '172.30.0.0/16', gateway: '172.30.0.1' }]]);
    const internal = buildConflist({ ...spec, internal: true }, { ipamDir: '/d', iptables: true });
    assert.deepEqual(internal.plugins.map((p) => p.type), ['bridge']);
    assert.equal(internal.plugins[0].isDefaultGateway, false);
    assert.deepEqual(buildConflist(spec, { ipamDir: '/d', iptables: false }).plugins.map((p) => p.type), ['bridge']);
  });
});

describe('host rules', () => {
  it('renders forward, isolation and masquerade rules per network', () => {
    const names = hostChainNames('BERTH');
    const rules = renderHostRules(names, [
      { bridge: 'bra', subnet: '10.1.0.0/24', gateway: '10.1.0.1', internal: false, ipMasq: true, dns: true },
      { bridge: 'brb', subnet: '10.2.0.0/24', gateway: '10.2.0.1', internal: true, ipMasq: true, dns: false },
    ]);
    assert.deepEqual(rules.filter['BERTH-INPUT'], [
      ['-i', 'bra', '-d', '10.1.0.1/32', '-p', 'udp', '-m', 'udp', '--dport', '53', '-j', 'ACCEPT'],
      ['-i', 'bra', '-d', '10.1.0.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', '53', '-j', 'ACCEPT'],
    ]);
    assert.deepEqual(rules.filter['BERTH-FORWARD'], [
      ['-i', 'bra', '!', '-o', 'bra', '-j', 'BERTH-ISOLATION'],
      ['-i', 'bra', '-j', 'ACCEPT'],
      ['-o', 'bra', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
      ['-o', 'bra', '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT'],
      ['-i', 'brb', '!', '-o', 'brb', '-j', 'DROP'],
      ['!', '-i', 'brb', '-o', 'brb', '-j', 'DROP'],
      ['-i', 'brb', '-o', 'brb', '-j', 'ACCEPT'],
    ]);
    assert.deepEqual(rules.filter['BERTH-ISOLATION'], [['-o', 'bra', '-j', 'DROP'], ['-o', 'brb', '-j', 'DROP']]);
    assert.deepEqual(rules.nat['BERTH-POSTROUTING'], [['-s', '10.1.0.0/24', '!', '-o', 'bra', '-j', 'MASQUERADE']]);
    assert.throws(() => hostChainNames('bad prefix'));
    assert.equal(hostChainNames('BERTH-3F9A1C').postrouting, 'BERTH-3F9A1C-POSTROUTING');
    assert.throws(() => hostChainNames('A-PREFIX-TOO-LONG-X'));
  });

  it('the leak check ignores only the shared portmap/firewall infrastructure', () => {
    const save = [
      '*nat',
      ':PREROUTING ACCEPT [3:180]',
      ':CNI-HOSTPORT-DNAT - [0:0]',
      ':CNI-DN-123 - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
      '-A CNI-HOSTPORT-DNAT -p tcp -j CNI-DN-123',
      '-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE',
      'COMMIT',
    ].join('\n');
    assert.deepEqual(normalizeIptables(save), ['-A CNI-HOSTPORT-DNAT -p tcp -j CNI-DN-123', ':CNI-DN-123 -']);
  });
});

describe('validation', () => {
  it('rejects specs and requests that cannot go on a command line', () => {
    assert.doesNotThrow(() => checkNetworkSpec(spec));
    assert.throws(() => checkNetworkSpec({ ...spec, bridge: 'a-bridge-name-too-long' }), NetworkPlumbingError);
    assert.throws(() => checkNetworkSpec({ ...spec, bridge: 'br;rm -rf' }), NetworkPlumbingError);
    assert.throws(() => checkNetworkSpec({ ...spec, gateway: '10.0.0.1' }), NetworkPlumbingError);
    assert.throws(() => checkNetworkSpec({ ...spec, ipRange: '10.0.0.0/24' }), NetworkPlumbingError);
    const req = { containerId: 'c1', netnsPath: '/x', ifname: 'eth0', network: spec, portMappings: [] };
    assert.throws(() => checkAttachRequest({ ...req, mac: 'zz' }), NetworkPlumbingError);
    assert.throws(() => checkAttachRequest({ ...req, ifname: 'eth0 up' }), NetworkPlumbingError);
    assert.throws(() => checkAttachRequest({ ...req, portMappings: [{ hostIp: '', hostPort: 70000, containerPort: 80, protocol: 'tcp' }] }));
  });

  it("uses dockerd's wording for static addresses outside the subnet or on the gateway", () => {
    assert.throws(() => checkStaticIp(spec, '10.1.0.5'), { message: "Invalid address 10.1.0.5: It does not belong to any of this network's subnets" });
    assert.throws(() => checkStaticIp(spec, '172.30.0.1'), (e: NetworkPlumbingError) => e.kind === 'address-in-use');
    assert.doesNotThrow(() => checkStaticIp(spec, '172.30.9.9'));
  });
});

describe('port reservations', () => {
  it("conflict on the same port (wildcard vs specific address) with dockerd's message", () => {
    const r = new PortReservations();
    r.reserve('a', { protocol: 'tcp', hostIp: '', hostPort: 8080 });
    assert.throws(() => r.reserve('b', { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 }), {
      message: 'Bind for 127.0.0.1:8080 failed: port is already allocated',
    });
    assert.throws(() => r.reserve('b', { protocol: 'tcp', hostIp: '', hostPort: 8080 }), {
      message: 'Bind for 0.0.0.0:8080 failed: port is already allocated',
    });
    r.reserve('b', { protocol: 'udp', hostIp: '', hostPort: 8080 });
    r.release('a');
    r.reserve('c', { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 });
  });

  it('allocates a free host port in the ephemeral range', async () => {
    const r = new PortReservations();
    const port = await r.allocate('tcp', '127.0.0.1');
    assert.ok(port >= 32768 && port <= 60999, String(port));
  });

  it('never hands the same port to two starts before either reserved it', async () => {
    // The kernel may offer a just-probed port again: concurrent `-p 127.0.0.1::80` starts got
    // the same port and one failed with "port is already allocated".
    const offers = [40000, 40000, 40001];
    const r = new PortReservations(async () => offers.shift()!);
    const [a, b] = await Promise.all([r.allocate('tcp', '127.0.0.1'), r.allocate('tcp', '127.0.0.1')]);
    assert.deepEqual([a, b].sort(), [40000, 40001]);
    r.reserve('first', { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: a });
    r.reserve('second', { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: b });
  });
});

/** rcode and answer data of a reply (dns-packet decodes `rcode`; its types omit it). */
function decode(buf: Buffer | undefined): { id: number; rcode: string; data: unknown[] } {
  assert.ok(buf, 'no reply');
  const p = dnsPacket.decode(buf) as dnsPacket.DecodedPacket & { rcode: string };
  return { id: p.id ?? -1, rcode: p.rcode, data: (p.answers ?? []).map((a) => (a as { data: unknown }).data) };
}

describe('DNS answers', () => {
  const query = (name: string, type: dnsPacket.RecordType = 'A') =>
    dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });

  it('answers A for registered names (case-insensitive, trailing dot), AAAA empty, PTR', async (t) => {
    const dns = new DnsServer({ upstreams: [], log: silentLog, port: 0 });
    t.after(() => dns.close());
    await dns.listen('n1', '127.0.0.1', '127.0.0.0/8');
    dns.setRecords('n1', [
      { names: ['web', 'Alias1'], ip: '10.1.0.2' },
      { names: ['web'], ip: '10.1.0.3' },
    ]);
    const a = decode(await dns.answer('n1', query('WEB.'), '127.0.0.5'));
    assert.equal(a.id, 4242);
    assert.equal(a.rcode, 'NOERROR');
    assert.deepEqual(a.data, ['10.1.0.2', '10.1.0.3']);
    const alias = decode(await dns.answer('n1', query('alias1'), '127.0.0.5'));
    assert.deepEqual(alias.data, ['10.1.0.2']);
    const aaaa = decode(await dns.answer('n1', query('web', 'AAAA'), '127.0.0.5'));
    assert.equal(aaaa.rcode, 'NOERROR');
    assert.equal(aaaa.data.length, 0);
    const ptr = decode(await dns.answer('n1', query('3.0.1.10.in-addr.arpa', 'PTR'), '127.0.0.5'));
    assert.deepEqual(ptr.data, ['web']);
  });

  it('answers AAAA and ip6.arpa PTR on dual-stack networks; link aliases only for their client', async (t) => {
    const dns = new DnsServer({ upstreams: [], log: silentLog, port: 0 });
    t.after(() => dns.close());
    await dns.listen('n1', '127.0.0.1', '127.0.0.0/8');
    dns.setRecords('n1', [
      { names: ['web'], ip: '10.1.0.2', ip6: 'fd00:db8:1::2' },
      { names: ['al'], ip: '10.1.0.2', ip6: 'fd00:db8:1::2', client: '127.0.0.7' },
    ]);
    assert.deepEqual(decode(await dns.answer('n1', query('web', 'AAAA'), '127.0.0.5')).data, ['fd00:db8:1::2']);
    const nibbles = '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.0.0.d.f.ip6.arpa';
    assert.deepEqual(decode(await dns.answer('n1', query(nibbles, 'PTR'), '127.0.0.5')).data, ['web']);
    assert.deepEqual(decode(await dns.answer('n1', query('al'), '127.0.0.7')).data, ['10.1.0.2']);
    assert.deepEqual(decode(await dns.answer('n1', query('al', 'AAAA'), '127.0.0.7')).data, ['fd00:db8:1::2']);
    // Another client does not see the alias (no upstream here: SERVFAIL, as for any unknown name).
    assert.equal(decode(await dns.answer('n1', query('al'), '127.0.0.5')).rcode, 'SERVFAIL');
  });

  it('refuses clients outside the subnet; SERVFAIL at once without upstreams', async (t) => {
    const dns = new DnsServer({ upstreams: [], log: silentLog, port: 0 });
    t.after(() => dns.close());
    await dns.listen('n1', '127.0.0.1', '127.0.0.0/8');
    const refused = decode(await dns.answer('n1', query('web'), '10.9.9.9'));
    assert.equal(refused.rcode, 'REFUSED');
    const start = Date.now();
    const fail = decode(await dns.answer('n1', query('unknown.example'), '127.0.0.5'));
    assert.equal(fail.rcode, 'SERVFAIL');
    assert.ok(Date.now() - start < 100);
  });

  it('SERVFAIL when every upstream times out', async (t) => {
    // An upstream that never answers: a bound socket on loopback that ignores queries.
    const dgram = await import('node:dgram');
    const mute = dgram.createSocket('udp4');
    await new Promise<void>((r) => mute.bind(0, '127.0.0.1', () => r()));
    t.after(() => mute.close());
    const dns = new DnsServer({ upstreams: [`127.0.0.1:${mute.address().port}`], log: silentLog, port: 0, upstreamTimeoutMs: 200 });
    t.after(() => dns.close());
    await dns.listen('n1', '127.0.0.1', '127.0.0.0/8');
    const start = Date.now();
    const fail = decode(await dns.answer('n1', query('unknown.example'), '127.0.0.5'));
    assert.equal(fail.rcode, 'SERVFAIL');
    assert.ok(Date.now() - start >= 190);
  });

  it('parses upstream addresses', () => {
    assert.deepEqual(parseUpstream('10.0.0.1'), { host: '10.0.0.1', port: 53 });
    assert.deepEqual(parseUpstream('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseUpstream('[::1]:54'), { host: '::1', port: 54 });
    assert.deepEqual(parseUpstream('fe80::1'), { host: 'fe80::1', port: 53 });
    assert.throws(() => parseUpstream('dns.example.com'));
  });

});
