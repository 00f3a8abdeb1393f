import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bitsOfMask,
  canonicalCidr,
  contains,
  formatAddr,
  formatPrefix,
  isMasked,
  masked,
  overlaps,
  parseAddr,
  parsePrefix,
  rangeOf,
} from '../../../src/network/ipv4';

const p = (s: string) => {
  const r = parsePrefix(s);
  assert.ok(r, s);
  return r;
};

describe('ipv4', () => {
  it('parses addresses strictly, like Go netip', () => {
    assert.equal(parseAddr('172.17.0.1'), 0xac110001);
    assert.equal(parseAddr('0.0.0.0'), 0);
    assert.equal(parseAddr('255.255.255.255'), 0xffffffff);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', '1.2.3.4 ', '::1']) {
      assert.equal(parseAddr(bad), undefined, bad);
    }
    assert.equal(formatAddr(0xac110001), '172.17.0.1');
  });

  it('parses prefixes and keeps host bits as written', () => {
    assert.deepEqual(p('10.1.2.3/8'), { addr: parseAddr('10.1.2.3'), bits: 8 });
    assert.equal(formatPrefix(masked(p('10.1.2.3/8'))), '10.0.0.0/8');
    assert.equal(isMasked(p('10.0.0.0/8')), true);
    assert.equal(isMasked(p('10.0.0.1/8')), false);
    assert.equal(canonicalCidr('192.168.1.77/20'), '192.168.0.0/20');
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0/8', 'fd00::/64', '10.0.0.0/-1']) {
      assert.equal(parsePrefix(bad), undefined, bad);
    }
    assert.deepEqual(p('0.0.0.0/0'), { addr: 0, bits: 0 });
  });

  it('computes ranges, containment and overlap', () => {
    assert.deepEqual(rangeOf(p('172.17.0.0/16')), { first: parseAddr('172.17.0.0'), last: parseAddr('172.17.255.255') });
    assert.deepEqual(rangeOf(p('0.0.0.0/0')), { first: 0, last: 0xffffffff });
    assert.equal(contains(p('172.17.0.0/16'), parseAddr('172.17.3.4')!), true);
    assert.equal(contains(p('172.17.0.0/16'), parseAddr('172.18.0.1')!), false);
    assert.equal(overlaps(p('172.16.0.0/12'), p('172.18.0.0/16')), true);
    assert.equal(overlaps(p('172.18.0.0/16'), p('172.16.0.0/12')), true);
    assert.equal(overlaps(p('172.17.0.0/16'), p('172.18.0.0/16')), false);
    assert.equal(overlaps(p('192.168.0.0/20'), p('192.168.15.255/32')), true);
    assert.equal(overlaps(p('192.168.0.0/20'), p('192.168.16.0/20')), false);
  });

  it('reads netmasks', () => {
    assert.equal(bitsOfMask(0xffff0000), 16);
    assert.equal(bitsOfMask(0), 0);
    assert.equal(bitsOfMask(0xffffffff), 32);
    assert.equal(bitsOfMask(0xff00ff00), undefined);
  });
});
