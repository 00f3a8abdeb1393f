import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';

/** GET /containers/{id}/json?size=1: cri-dockerd's stats collector reads SizeRw from it. */
describe('containers: inspect with size', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('adds SizeRw and SizeRootFs after GraphDriver only when asked', async () => {
    berth.ok(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'head -c 50000 /dev/zero > /blob']);
    const [image] = JSON.parse(berth.ok(['image', 'inspect', 'busybox']));
    const sized = await api(berth.socket, 'GET', '/v1.41/containers/writer/json?size=1');
    assert.equal(sized.status, 200);
    const c = JSON.parse(sized.body);
    assert.ok(c.SizeRw >= 50000 && c.SizeRw < 200000, `SizeRw ${c.SizeRw}`);
    assert.equal(c.SizeRootFs, c.SizeRw + image.Size);
    const keys = Object.keys(c);
    assert.deepEqual(keys.slice(keys.indexOf('GraphDriver'), keys.indexOf('GraphDriver') + 3), ['GraphDriver', 'SizeRw', 'SizeRootFs']);
    const plain = JSON.parse((await api(berth.socket, 'GET', '/v1.41/containers/writer/json')).body);
    assert.equal('SizeRw' in plain, false);
    assert.equal('SizeRootFs' in plain, false);
    // The CLI's `inspect --size` sends the same query.
    const [cli] = JSON.parse(berth.ok(['inspect', '--size', 'writer']));
    assert.equal(cli.SizeRw, c.SizeRw);
  });
});
