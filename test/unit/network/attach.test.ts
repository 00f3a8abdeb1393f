/**
 * CniNetworkPlumbing on the real kernel: bridges, namespaces, CNI ADD/DEL, IPAM, isolation.
 * Every test compares host links, iptables rules and mounts before and after (leak check),
 * with the plumbing's own cleanup; the sandbox's fallback cleanup runs afterwards regardless.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NetworkPlumbingError } from '../../../src/network/errors';
import type { BridgeNetworkSpec } from '../../../src/network/types';
import { inNetns, leakChecked, request, sh, tryInNetns, type NetSandbox } from './fixtures';

const ipamFile = (sb: NetSandbox, net: BridgeNetworkSpec, ip: string) => join(sb.dir, 'data', 'network', 'ipam', net.id, ip);

describe('attach and detach', () => {
  it('creates the bridge, attaches namespaces, connects them, honours static ip/mac, frees addresses', async (t) => {
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing();
      const net = sb.network();
      const prefix = net.subnet.split('.').slice(0, 3).join('.');
      await p.ensureNetwork(net);
      assert.match(await sh('ip', ['-4', '-o', 'addr', 'show', 'dev', net.bridge]), new RegExp(`inet ${net.gateway}/24`));

      const ns1 = await p.createNetns('c1');
      assert.match(await inNetns(ns1, 'ip', ['-o', 'link', 'show', 'lo']), /UP/);
      let start = process.hrtime.bigint();
      const ep1 = await p.attach(request('c1', ns1, net));
      t.diagnostic(`CNI ADD (bridge+portmap): ${Number(process.hrtime.bigint() - start) / 1e6} ms`);
      assert.equal(ep1.ifname, 'eth0');
      assert.equal(ep1.prefixLen, 24);
      assert.equal(ep1.gateway, net.gateway);
      assert.ok(ep1.ip.startsWith(`${prefix}.`) && ep1.ip !== net.gateway, ep1.ip);
      assert.match(ep1.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.match(await inNetns(ns1, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${ep1.ip}/24`));
      assert.match(await inNetns(ns1, 'ip', ['route']), new RegExp(`default via ${net.gateway} dev eth0`));
      await inNetns(ns1, 'busybox', ['ping', '-c', '1', '-W', '2', net.gateway]);

      const ns2 = await p.createNetns('c2');
      const staticIp = `${prefix}.50`;
      const ep2 = await p.attach(request('c2', ns2, net, { ip: staticIp, mac: '02:42:0a:c7:00:32' }));
      assert.equal(ep2.ip, staticIp);
      assert.equal(ep2.mac, '02:42:0a:c7:00:32');
      assert.match(await inNetns(ns2, 'ip', ['-o', 'link', 'show', 'eth0']), /link\/ether 02:42:0a:c7:00:32/);
      await sb.serve(ns2, 'http', '8080', 'hello from c2');
      assert.equal(await inNetns(ns1, 'busybox', ['wget', '-q', '-O', '-', `http://${staticIp}:8080/`]), 'hello from c2');

      // Attaching the same interface twice is refused without touching the first endpoint.
      await assert.rejects(p.attach(request('c2', ns2, net)), (e: NetworkPlumbingError) => e.kind === 'endpoint-exists');
      assert.equal(await inNetns(ns1, 'busybox', ['wget', '-q', '-O', '-', `http://${staticIp}:8080/`]), 'hello from c2');

      // A second request for the same static address fails before the plugin runs, cleanly.
      const ns3 = await p.createNetns('c3');
      await assert.rejects(p.attach(request('c3', ns3, net, { ip: staticIp })), (e: NetworkPlumbingError) => {
        assert.equal(e.kind, 'address-in-use');
        assert.equal(e.message, `Address already in use: ${staticIp}`);
        return true;
      });
      await assert.rejects(p.attach(request('c3', ns3, net, { ip: '10.1.2.3' })), (e: NetworkPlumbingError) => e.kind === 'invalid-address');
      assert.doesNotMatch(await inNetns(ns3, 'ip', ['-o', 'link']), /eth0/);

      // Detach frees the address: now c3 can take it.
      start = process.hrtime.bigint();
      await p.detach(request('c2', ns2, net));
      t.diagnostic(`CNI DEL: ${Number(process.hrtime.bigint() - start) / 1e6} ms`);
      assert.ok(!existsSync(ipamFile(sb, net, staticIp)));
      assert.doesNotMatch(await inNetns(ns2, 'ip', ['-o', 'link']), /eth0/);
      const ep3 = await p.attach(request('c3', ns3, net, { ip: staticIp }));
      assert.equal(ep3.ip, staticIp);

      // Detach is idempotent, and works when the namespace is already gone.
      await p.removeNetns(ns1);
      await p.detach(request('c1', ns1, net));
      await p.detach(request('c1', ns1, net));
      assert.ok(!existsSync(ipamFile(sb, net, ep1.ip)));
      await p.detach(request('c3', ns3, net));
      await p.removeNetns(ns2);
      await p.removeNetns(ns3);
      await p.removeNetns(ns3);
      await p.removeNetwork(net);
      assert.ok(!existsSync(join(sb.dir, 'data', 'network', 'ipam', net.id)));
      await p.close();
    });
  });

  it('releaseNetns frees endpoints in the background; what depends on them waits', async (t) => {
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing();
      const base = sb.network();
      const prefix = base.subnet.split('.').slice(0, 3).join('.');
      // Two addresses only: .2 and .3, so a full range must wait for the release.
      const net = { ...base, ipRange: `${prefix}.0/30` };
      const nsA = await p.createNetns('a');
      const epA = await p.attach(request('a', nsA, net, { ip: `${prefix}.2` }));
      const nsB = await p.createNetns('b');
      const epB = await p.attach(request('b', nsB, net));
      assert.equal(epB.ip, `${prefix}.3`);

      // A static address of a run being released is handed out once the release is done.
      await p.releaseNetns(nsA, [request('a', nsA, net, { ip: epA.ip })]);
      const nsC = await p.createNetns('c');
      assert.equal((await p.attach(request('c', nsC, net, { ip: epA.ip }))).ip, epA.ip);
      assert.ok(!existsSync(nsA), 'the namespace file of a is gone');

      // The same container's next run waits for its last one (same path, same CNI id).
      await p.releaseNetns(nsB, [request('b', nsB, net)]);
      const nsB2 = await p.createNetns('b');
      assert.equal(nsB2, nsB);
      // The range is full until b's address comes back.
      const epB2 = await p.attach(request('b', nsB2, net));
      assert.equal(epB2.ip, `${prefix}.3`);

      // With published ports the DEL is done when releaseNetns returns (portmap rules gone).
      await p.releaseNetns(nsB2, [request('b', nsB2, net, { portMappings: [{ hostIp: '127.0.0.1', hostPort: 1, containerPort: 80, protocol: 'tcp' }] })]);
      assert.ok(!existsSync(ipamFile(sb, net, `${prefix}.3`)));

      await p.releaseNetns(nsC, [request('c', nsC, net)]);
      // Network removal waits for releases on it; nothing of the network remains.
      await p.removeNetwork(net);
      assert.ok(!existsSync(join(sb.dir, 'data', 'network', 'ipam', net.id)));
      await p.close();
    });
  });

  it('ipRange limits dynamic addresses; a static address may lie outside it', async (t) => {
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing();
      const base = sb.network();
      const prefix = base.subnet.split('.').slice(0, 3).join('.');
      const net = { ...base, ipRange: `${prefix}.128/25` };
      const ns1 = await p.createNetns('c1');
      const ns2 = await p.createNetns('c2');
      const ep1 = await p.attach(request('c1', ns1, net));
      assert.ok(Number(ep1.ip.split('.')[3]) >= 128, ep1.ip);
      const ep2 = await p.attach(request('c2', ns2, net, { ip: `${prefix}.9` }));
      assert.equal(ep2.ip, `${prefix}.9`);
      for (const [id, ns] of [['c1', ns1], ['c2', ns2]] as const) {
        await p.detach(request(id, ns, net));
        await p.removeNetns(ns);
      }
      await p.removeNetwork(net);
      await p.close();
    });
  });

  it('keeps IPAM state across plumbing instances (no address is handed out twice)', async (t) => {
    await leakChecked(t, async (sb) => {
      const net = sb.network();
      const p1 = sb.plumbing();
      const ns1 = await p1.createNetns('c1');
      const ep1 = await p1.attach(request('c1', ns1, net));
      await p1.close();

      const p2 = sb.plumbing();
      await p2.init({ networks: [net], netnsPaths: [ns1] });
      assert.ok(existsSync(ipamFile(sb, net, ep1.ip)), 'live allocation kept by init');
      const ns2 = await p2.createNetns('c2');
      const ep2 = await p2.attach(request('c2', ns2, net));
      assert.notEqual(ep2.ip, ep1.ip);
      await assert.rejects(p2.attach(request('c2', ns2, net, { ifname: 'eth1', ip: ep1.ip })), (e: NetworkPlumbingError) => e.kind === 'address-in-use');
      await inNetns(ns2, 'busybox', ['ping', '-c', '1', '-W', '2', ep1.ip]);

      await p2.detach(request('c1', ns1, net));
      await p2.detach(request('c2', ns2, net));
      await p2.removeNetns(ns1);
      await p2.removeNetns(ns2);
      await p2.removeNetwork(net);
      await p2.close();
    });
  });

  it('isolates networks from each other; internal networks have no route off the bridge', async (t) => {
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing();
      const a = sb.network();
      const b = sb.network();
      const internal = sb.network({ internal: true, ipMasq: false });
      const nsA1 = await p.createNetns('a1');
      const nsA2 = await p.createNetns('a2');
      const nsB = await p.createNetns('b1');
      const nsI = await p.createNetns('i1');
      const epA2 = await p.attach(request('a2', nsA2, a));
      await p.attach(request('a1', nsA1, a));
      const epB = await p.attach(request('b1', nsB, b));
      const epI = await p.attach(request('i1', nsI, internal));

      await inNetns(nsA1, 'busybox', ['ping', '-c', '1', '-W', '2', epA2.ip]);
      // Routed through the host (default route), dropped by the isolation chain.
      assert.equal((await tryInNetns(nsA1, 'busybox', ['ping', '-c', '1', '-W', '1', epB.ip])).ok, false);
      // The host itself still reaches both (gateway side).
      await inNetns(nsB, 'busybox', ['ping', '-c', '1', '-W', '2', b.gateway]);

      assert.doesNotMatch(await inNetns(nsI, 'ip', ['route']), /default/);
      await inNetns(nsI, 'busybox', ['ping', '-c', '1', '-W', '2', internal.gateway]);
      // Even with a route added by hand, traffic may not leave the internal bridge.
      await inNetns(nsI, 'ip', ['route', 'add', a.subnet, 'via', internal.gateway]);
      assert.equal((await tryInNetns(nsI, 'busybox', ['ping', '-c', '1', '-W', '1', epA2.ip])).ok, false);
      assert.equal((await tryInNetns(nsA1, 'busybox', ['ping', '-c', '1', '-W', '1', epI.ip])).ok, false);

      const save = await sh('iptables-save', []);
      assert.match(save, new RegExp(`-A ${sb.chainPrefix}-FORWARD -i ${internal.bridge} ! -o ${internal.bridge} -j DROP`));
      assert.match(save, new RegExp(`-A ${sb.chainPrefix}-POSTROUTING -s ${a.subnet.replace(/\./g, '\\.')} ! -o ${a.bridge} -j MASQUERADE`));
      assert.doesNotMatch(save, new RegExp(`-s ${internal.subnet.replace(/\./g, '\\.')} .*MASQUERADE`));

      for (const [id, ns, net] of [['a1', nsA1, a], ['a2', nsA2, a], ['b1', nsB, b], ['i1', nsI, internal]] as const) {
        await p.detach(request(id, ns, net));
        await p.removeNetns(ns);
      }
      for (const net of [a, b, internal]) await p.removeNetwork(net);
      await p.close();
    });
  });

  it('init removes leftovers: stale bridges, namespaces, allocations (with their port rules) and chains', async (t) => {
    await leakChecked(t, async (sb) => {
      const keep = sb.network();
      const gone = sb.network();
      const p1 = sb.plumbing();
      await p1.ensureNetwork(gone);
      const ns1 = await p1.createNetns('live1');
      const ns2 = await p1.createNetns('dead2');
      const ep1 = await p1.attach(request('live1', ns1, keep));
      const ep2 = await p1.attach(request('dead2', ns2, keep, { portMappings: [{ hostIp: '127.0.0.1', hostPort: await p1.allocateHostPort('tcp', '127.0.0.1'), containerPort: 80, protocol: 'tcp' }] }));
      assert.match(await sh('iptables-save', ['-t', 'nat']), /dead2/);
      await p1.close(); // the daemon "crashes": nothing detached

      const p2 = sb.plumbing();
      await p2.init({ networks: [keep], netnsPaths: [ns1] });
      assert.equal((await tryInNetns(ns2, 'true', [])).ok, false, 'stale netns removed');
      assert.ok(!existsSync(ns2));
      assert.equal((await tryInNetns(ns1, 'true', [])).ok, true, 'live netns kept');
      await assert.rejects(sh('ip', ['link', 'show', gone.bridge]), 'stale bridge removed');
      assert.ok(!existsSync(join(sb.dir, 'data', 'network', 'ipam', gone.id)));
      assert.ok(existsSync(ipamFile(sb, keep, ep1.ip)));
      assert.ok(!existsSync(ipamFile(sb, keep, ep2.ip)), 'stale allocation released');
      assert.doesNotMatch(await sh('iptables-save', ['-t', 'nat']), /dead2/, 'portmap rules of the stale endpoint removed');

      await p2.detach(request('live1', ns1, keep));
      await p2.removeNetns(ns1);
      await p2.removeNetwork(keep);
      await p2.close();
      // With no networks at all, init also drops Berth's chains.
      const p3 = sb.plumbing();
      await p3.ensureNetwork(gone);
      await p3.close();
      await sb.plumbing().init({ networks: [], netnsPaths: [] });
      assert.doesNotMatch(await sh('iptables-save', []), new RegExp(sb.chainPrefix));
    });
  });
});
