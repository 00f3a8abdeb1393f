import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAddr, formatPrefix, parsePrefix } from '../../../../src/network/ipv4';
import { allocateSubnet, candidateSubnets, defaultGateway, usableRange } from '../../../../src/engine/networks/subnet-pool';

const p = (s: string) => parsePrefix(s)!;

describe('default address pools', () => {
  it('offer 172.17–31.0.0/16, then 192.168.0.0/16 in /20s, in that order', () => {
    const all = [...candidateSubnets()].map(formatPrefix);
    assert.equal(all.length, 15 + 16);
    assert.deepEqual(all.slice(0, 3), ['172.17.0.0/16', '172.18.0.0/16', '172.19.0.0/16']);
    assert.equal(all[14], '172.31.0.0/16');
    assert.equal(all[15], '192.168.0.0/20');
    assert.equal(all[16], '192.168.16.0/20');
    assert.equal(all.at(-1), '192.168.240.0/20');
  });

  it('allocate the first subnet overlapping nothing taken', () => {
    assert.equal(allocateSubnet([]), '172.17.0.0/16');
    // docker0's on-link route while dockerd runs.
    assert.equal(allocateSubnet([p('172.17.0.0/16')]), '172.18.0.0/16');
    // A host LAN inside a pool, and a bigger route covering several pools.
    assert.equal(allocateSubnet([p('172.17.0.0/16'), p('172.18.5.0/24')]), '172.19.0.0/16');
    assert.equal(allocateSubnet([p('172.16.0.0/12')]), '192.168.0.0/20');
    assert.equal(allocateSubnet([p('172.16.0.0/12'), p('192.168.1.0/24')]), '192.168.16.0/20');
    // A nameserver address reserves just itself.
    assert.equal(allocateSubnet([p('172.17.0.53/32')]), '172.18.0.0/16');
  });

  it("fail with dockerd's message when every pool is taken", () => {
    assert.throws(() => allocateSubnet([p('172.16.0.0/12'), p('192.168.0.0/16')]), {
      name: 'InvalidParameterError',
      message: 'all predefined address pools have been fully subnetted',
    });
  });

  it('leave out network and broadcast addresses, except on /31 and /32', () => {
    const r = usableRange(p('10.0.0.0/24'));
    assert.deepEqual([formatAddr(r.first), formatAddr(r.last)], ['10.0.0.1', '10.0.0.254']);
    const r31 = usableRange(p('10.0.0.0/31'));
    assert.deepEqual([formatAddr(r31.first), formatAddr(r31.last)], ['10.0.0.0', '10.0.0.1']);
  });

  it('pick the gateway as dockerd: first free address of the IP range, else of the subnet', () => {
    assert.equal(formatAddr(defaultGateway(p('172.18.0.0/16'))!), '172.18.0.1');
    assert.equal(formatAddr(defaultGateway(p('10.10.0.0/16'), p('10.10.5.0/24'))!), '10.10.5.0');
    assert.equal(formatAddr(defaultGateway(p('10.10.0.0/16'), p('10.10.0.0/24'))!), '10.10.0.1');
    assert.equal(defaultGateway(p('10.10.0.0/30'), p('10.10.0.3/32')), undefined);
  });
});
