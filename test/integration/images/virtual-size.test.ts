import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';

/** cri-dockerd (API 1.41 clients generally) read VirtualSize; dockerd drops it from 1.44 on. */
describe('images: VirtualSize per API version', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('lists and inspects VirtualSize = Size below 1.44, and omits it from 1.44 on', async () => {
    for (const [version, present] of [['1.41', true], ['1.43', true], ['1.44', false], ['1.51', false]] as const) {
      const list = await api(berth.socket, 'GET', `/v${version}/images/json`);
      assert.equal(list.status, 200);
      const [summary] = JSON.parse(list.body);
      const inspect = await api(berth.socket, 'GET', `/v${version}/images/busybox/json`);
      assert.equal(inspect.status, 200);
      const image = JSON.parse(inspect.body);
      for (const [what, obj] of [['list', summary], ['inspect', image]] as const) {
        assert.ok(obj.Size > 0, `${what} ${version}: Size`);
        if (present) assert.equal(obj.VirtualSize, obj.Size, `${what} ${version}`);
        else assert.equal('VirtualSize' in obj, false, `${what} ${version}`);
      }
    }
  });
});
