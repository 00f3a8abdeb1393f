import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProcNetRoute, parseResolvConfNameservers } from '../../../../src/engine/networks/host-networks';

// A host with a LAN, a running dockerd (docker0), a route via a gateway and a blackhole route.
const PROC_NET_ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t0000000A\t0102A8C0\t0003\t0\t0\t0\t000000FF\t0\t0\t0
*\t0000FEA9\t00000000\t0201\t0\t0\t0\t0000FFFF\t0\t0\t0
`;

describe('host networks', () => {
  it('are the on-link routes of /proc/net/route (not default, gateway or reject routes)', () => {
    assert.deepEqual(parseProcNetRoute(PROC_NET_ROUTE), [
      { cidr: '192.168.2.0/24', iface: 'eth0' },
      { cidr: '172.17.0.0/16', iface: 'docker0' },
    ]);
    assert.deepEqual(parseProcNetRoute(''), []);
    assert.deepEqual(parseProcNetRoute('Iface\tDestination\ngarbage line\n'), []);
  });

  it("and the IPv4 nameservers of resolv.conf", () => {
    const text = '# generated\nnameserver 10.0.0.2\nnameserver fd00::1\n  nameserver 127.0.0.53\nsearch example.com\n';
    assert.deepEqual(parseResolvConfNameservers(text), [{ cidr: '10.0.0.2/32' }, { cidr: '127.0.0.53/32' }]);
  });
});
