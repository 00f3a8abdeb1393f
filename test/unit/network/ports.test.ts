/**
 * Published ports from the host's loopback to a server in a container namespace: through the
 * userland proxy (TCP with half-close, UDP) and through portmap's DNAT alone; conflicts use
 * dockerd's wording and leave nothing behind.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NetworkPlumbingError } from '../../../src/network/errors';
import type { PortMapping } from '../../../src/network/types';
import { leakChecked, request, sh } from './fixtures';

function httpGet(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: '/', timeout: 5000, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject)
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error('timeout'));
      });
  });
}

/** Sends `payload`, half-closes, and resolves with everything the server sends back. */
function halfCloseExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => s.end(payload));
    let reply = '';
    s.on('data', (d: Buffer) => (reply += d.toString()));
    s.on('end', () => resolve(reply));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

function udpExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('udp timeout'));
    }, 5000);
    s.on('message', (msg) => {
      clearTimeout(timer);
      s.close();
      resolve(msg.toString());
    });
    s.send(payload, port, '127.0.0.1');
  });
}

describe('published ports', () => {
  it('userland proxy: TCP with half-close and UDP from 127.0.0.1 (no iptables)', async (t) => {
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing({ iptables: false, userlandProxy: true, udpProxyIdleMs: 500 });
      const netSpec = sb.network({ ipMasq: false });
      const ns = await p.createNetns('c1');
      const tcpPort = await p.allocateHostPort('tcp', '127.0.0.1');
      const httpPort = await p.allocateHostPort('tcp', '');
      const udpPort = await p.allocateHostPort('udp', '127.0.0.1');
      const ports: PortMapping[] = [
        { hostIp: '127.0.0.1', hostPort: tcpPort, containerPort: 7000, protocol: 'tcp' },
        { hostIp: '', hostPort: httpPort, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: udpPort, containerPort: 7001, protocol: 'udp' },
      ];
      await p.attach(request('c1', ns, netSpec, { portMappings: ports }));
      await sb.serve(ns, 'halfclose', '7000');
      await sb.serve(ns, 'http', '80', 'proxied');
      await sb.serve(ns, 'udpecho', '7001');
      // Other daemons on the host have their own NAT rules; only this test's host ports matter.
      const nat = await sh('iptables-save', ['-t', 'nat']);
      for (const port of [tcpPort, httpPort, udpPort]) assert.doesNotMatch(nat, new RegExp(`\\b${port}\\b`), 'no DNAT without --iptables');

      assert.equal(await halfCloseExchange(tcpPort, 'x'.repeat(100_000)), 'got 100000');
      assert.equal(await httpGet(httpPort), 'proxied');
      assert.equal(await udpExchange(udpPort, 'ping-1'), 'ping-1');
      assert.equal(await udpExchange(udpPort, 'ping-2'), 'ping-2');

      await p.detach(request('c1', ns, netSpec, { portMappings: ports }));
      await assert.rejects(httpGet(httpPort), /ECONNREFUSED/);
      await p.removeNetns(ns);
      await p.removeNetwork(netSpec);
      await p.close();
    });
  });

  it('portmap DNAT alone serves 127.0.0.1 when the proxy is off', async (t) => {
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing({ iptables: true, userlandProxy: false });
      const netSpec = sb.network();
      const ns = await p.createNetns('c1');
      const hostPort = await p.allocateHostPort('tcp', '');
      const ports: PortMapping[] = [{ hostIp: '', hostPort, containerPort: 80, protocol: 'tcp' }];
      await p.attach(request('c1', ns, netSpec, { portMappings: ports }));
      await sb.serve(ns, 'http', '80', 'dnat');
      assert.match(await sh('iptables-save', ['-t', 'nat']), new RegExp(`--dport ${hostPort} -j DNAT`));
      assert.equal(await httpGet(hostPort), 'dnat');
      // Nothing listens on the host (the port can be bound): it really was the DNAT.
      const probe = net.createServer();
      await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(hostPort, '127.0.0.1', () => resolve()));
      await new Promise<void>((resolve) => probe.close(() => resolve()));

      await p.detach(request('c1', ns, netSpec, { portMappings: ports }));
      assert.doesNotMatch(await sh('iptables-save', ['-t', 'nat']), new RegExp(`--dport ${hostPort} `));
      await p.removeNetns(ns);
      await p.removeNetwork(netSpec);
      await p.close();
    });
  });

  it("port conflicts fail with dockerd's wording and leave no endpoint behind", async (t) => {
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing({ iptables: true, userlandProxy: true });
      const netSpec = sb.network();
      const ns1 = await p.createNetns('c1');
      const ns2 = await p.createNetns('c2');
      const hostPort = await p.allocateHostPort('tcp', '');
      const mapping: PortMapping = { hostIp: '', hostPort, containerPort: 80, protocol: 'tcp' };
      await p.attach(request('c1', ns1, netSpec, { portMappings: [mapping] }));
      await assert.rejects(p.attach(request('c2', ns2, netSpec, { portMappings: [{ ...mapping, hostIp: '127.0.0.1' }] })), (e: NetworkPlumbingError) => {
        assert.equal(e.kind, 'port-allocated');
        assert.equal(e.message, `Bind for 127.0.0.1:${hostPort} failed: port is already allocated`);
        return true;
      });

      // A port another program holds: the proxy's bind fails and the endpoint is rolled back.
      const foreign = net.createServer();
      await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', () => r()));
      t.after(() => foreign.close());
      const taken = (foreign.address() as net.AddressInfo).port;
      await assert.rejects(
        p.attach(request('c2', ns2, netSpec, { portMappings: [{ hostIp: '127.0.0.1', hostPort: taken, containerPort: 80, protocol: 'tcp' }] })),
        { message: `Error starting userland proxy: listen tcp4 127.0.0.1:${taken}: bind: address already in use` },
      );
      const ipamDir = join(sb.dir, 'data', 'network', 'ipam', netSpec.id);
      assert.deepEqual((await sh('ls', [ipamDir])).split('\n').filter((f) => /^\d/.test(f)).length, 1, 'only c1 holds an address');
      assert.doesNotMatch(await sh('iptables-save', ['-t', 'nat']), /"c2"/);
      assert.ok(existsSync(ns2));

      // After a restart the engine re-creates the proxies without CNI ADD.
      await p.close();
      const p2 = sb.plumbing({ iptables: true, userlandProxy: true });
      await p2.init({ networks: [netSpec], netnsPaths: [ns1, ns2] });
      const ep = { ifname: 'eth0', ip: '', prefixLen: 24, gateway: netSpec.gateway, mac: '' };
      const alloc = (await sh('ls', [ipamDir])).split('\n').find((f) => /^\d/.test(f))!;
      await p2.restorePorts(request('c1', ns1, netSpec, { portMappings: [mapping] }), { ...ep, ip: alloc });
      await p2.restorePorts(request('c1', ns1, netSpec, { portMappings: [mapping] }), { ...ep, ip: alloc });
      await assert.rejects(p2.attach(request('c2', ns2, netSpec, { portMappings: [mapping] })), /port is already allocated/);

      await p2.detach(request('c1', ns1, netSpec, { portMappings: [mapping] }));
      await p2.detach(request('c2', ns2, netSpec));
      await p2.removeNetns(ns1);
      await p2.removeNetns(ns2);
      await p2.removeNetwork(netSpec);
      await p2.close();
    });
  });
});
