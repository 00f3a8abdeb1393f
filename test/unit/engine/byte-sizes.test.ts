import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHumanSize, ramInBytes } from '../../../src/engine/byte-sizes';

describe('Go-style byte sizes (docker/go-units)', () => {
  it('reads decimal sizes for FromHumanSize and binary ones for RAMInBytes', () => {
    assert.equal(fromHumanSize('10m'), 10_000_000);
    assert.equal(fromHumanSize('1.5 kB'), 1500);
    assert.equal(fromHumanSize('42'), 42);
    assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
    assert.equal(ramInBytes('1GiB'), 1024 ** 3);
    assert.equal(ramInBytes('0.5k'), 512);
  });

  it('refuses what go-units refuses', () => {
    for (const bad of ['', 'm', '-1m', '1.2.3m', '10x', '10 m b', ' 10m']) {
      assert.equal(fromHumanSize(bad), undefined, bad);
      assert.equal(ramInBytes(bad), undefined, bad);
    }
  });
});
