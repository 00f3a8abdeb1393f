/**
 * The embedded DNS server as a container sees it: queries to 127.0.0.11 inside the namespace
 * reach the daemon's server on the gateway; unknown names go to the upstream (a test server
 * on 127.0.0.1, never the host's resolver).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inNetns, leakChecked, request, startUpstream } from './fixtures';

const script = join(__dirname, 'netns-servers.js');

async function query(netnsPath: string, name: string, type = 'A', proto: 'udp' | 'tcp' = 'udp'): Promise<{ rcode: string; answers: string[] }> {
  return JSON.parse(await inNetns(netnsPath, process.execPath, [script, 'dnsquery', '127.0.0.11', name, type, proto])) as { rcode: string; answers: string[] };
}

describe('embedded DNS through 127.0.0.11', () => {
  it('answers registered names, forwards the rest to the upstream, over UDP and TCP', async (t) => {
    const upstream = await startUpstream('10.199.254.254');
    t.after(() => upstream.close());
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing({ upstreamResolvers: [upstream.address] });
      const net = sb.network();
      await p.ensureNetwork(net);
      const ns1 = await p.createNetns('c1');
      const ep1 = await p.attach(request('c1', ns1, net));
      p.setDnsRecords(net.id, [{ names: ['web', 'Web-Alias'], ip: '10.199.250.7' }, { names: ['me'], ip: ep1.ip }]);

      const out = await inNetns(ns1, 'busybox', ['nslookup', 'web', '127.0.0.11']);
      assert.match(out, /Address:\s+10\.199\.250\.7/);
      assert.deepEqual(await query(ns1, 'WEB-ALIAS.'), { rcode: 'NOERROR', answers: ['10.199.250.7'] });
      assert.deepEqual(await query(ns1, 'web', 'AAAA'), { rcode: 'NOERROR', answers: [] });
      assert.deepEqual(await query(ns1, 'me', 'A', 'tcp'), { rcode: 'NOERROR', answers: [ep1.ip] });
      const reverse = ep1.ip.split('.').reverse().join('.');
      assert.deepEqual(await query(ns1, `${reverse}.in-addr.arpa`, 'PTR'), { rcode: 'NOERROR', answers: ['me'] });

      assert.deepEqual(await query(ns1, 'unknown-name.example'), { rcode: 'NOERROR', answers: ['10.199.254.254'] });
      assert.deepEqual(await query(ns1, 'over-tcp.example', 'A', 'tcp'), { rcode: 'NOERROR', answers: ['10.199.254.254'] });
      assert.deepEqual(
        upstream.queries.map((q) => q.name),
        ['unknown-name.example', 'over-tcp.example'],
      );

      // Replacing the records takes effect at once.
      p.setDnsRecords(net.id, [{ names: ['web'], ip: '10.199.250.8' }]);
      assert.deepEqual(await query(ns1, 'web'), { rcode: 'NOERROR', answers: ['10.199.250.8'] });

      await p.detach(request('c1', ns1, net));
      await p.removeNetns(ns1);
      await p.removeNetwork(net);
      await p.close();
    });
  });

  it('SERVFAIL without upstreams; the resolver follows the container to its next DNS network', async (t) => {
    await leakChecked(t, async (sb) => {
      const p = sb.plumbing({ upstreamResolvers: [] });
      const first = sb.network();
      const second = sb.network();
      const ns = await p.createNetns('c1');
      await p.attach(request('c1', ns, first));
      await p.attach(request('c1', ns, second, { ifname: 'eth1' }));
      p.setDnsRecords(first.id, [{ names: ['one'], ip: '10.199.250.1' }]);
      p.setDnsRecords(second.id, [{ names: ['two'], ip: '10.199.250.2' }]);

      const start = Date.now();
      assert.equal((await query(ns, 'nowhere.example')).rcode, 'SERVFAIL');
      t.diagnostic(`SERVFAIL without upstreams after ${Date.now() - start} ms (incl. nsenter + node start)`);
      // 127.0.0.11 is served by the first DNS network attached.
      assert.deepEqual((await query(ns, 'one')).answers, ['10.199.250.1']);
      assert.equal((await query(ns, 'two')).rcode, 'SERVFAIL');

      await p.detach(request('c1', ns, first));
      assert.deepEqual((await query(ns, 'two')).answers, ['10.199.250.2']);
      assert.match(await inNetns(ns, 'iptables-save', ['-t', 'nat']), new RegExp(`--to-destination ${second.gateway.replace(/\./g, '\\.')}:53`));

      await p.detach(request('c1', ns, second, { ifname: 'eth1' }));
      assert.doesNotMatch(await inNetns(ns, 'iptables-save', ['-t', 'nat']), /127\.0\.0\.11/);
      await p.removeNetns(ns);
      await p.removeNetwork(first);
      await p.removeNetwork(second);
      await p.close();
    });
  });
});
