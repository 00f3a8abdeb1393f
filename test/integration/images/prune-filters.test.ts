import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';

describe('docker images filters and docker image prune', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
    berth.ok(['run', '--name', 'src', 'busybox', 'sh', '-c', 'echo x > /x']);
    berth.ok(['commit', '-c', 'LABEL tier=gold', 'src', 'app/gold:1']);
    berth.ok(['commit', '-c', 'LABEL tier=silver', 'src', 'app/silver:2']);
  });
  after(async () => {
    await berth?.cleanup();
  });

  const repoTags = (...args: string[]) => berth.ok(['images', '--format', '{{.Repository}}:{{.Tag}}', ...args]).trim().split('\n').filter(Boolean).sort();

  it('filters by label, reference glob, dangling, before and since', () => {
    assert.deepEqual(repoTags('--filter', 'label=tier=gold'), ['app/gold:1']);
    assert.deepEqual(repoTags('--filter', 'label=tier'), ['app/gold:1', 'app/silver:2']);
    assert.deepEqual(repoTags('--filter', 'reference=app/*'), ['app/gold:1', 'app/silver:2']);
    assert.deepEqual(repoTags('--filter', 'reference=app/silver:*'), ['app/silver:2']);
    assert.deepEqual(repoTags('busybox'), ['busybox:latest']);
    assert.deepEqual(repoTags('--filter', 'since=busybox', '--filter', 'label=tier'), ['app/gold:1', 'app/silver:2']);
    assert.deepEqual(repoTags('--filter', 'before=app/gold:1', '--filter', 'reference=busybox'), ['busybox:latest']);
    assert.deepEqual(repoTags('--filter', 'dangling=true'), []);
    assert.match(berth.docker(['images', '--filter', 'colour=red']).stderr, /invalid filter 'colour'/);
  });

  it("lists only the names a reference filter matched, and a committed image's ParentId", async () => {
    berth.ok(['tag', 'busybox', 'alias/box:1']);
    assert.deepEqual(repoTags('busybox'), ['busybox:latest']);
    assert.deepEqual(repoTags('alias/*'), ['alias/box:1']);
    berth.ok(['rmi', 'alias/box:1']);
    const list = JSON.parse((await api(berth.socket, 'GET', '/images/json?filters=' + encodeURIComponent(JSON.stringify({ reference: ['app/gold'] })))).body);
    assert.equal(list.length, 1);
    assert.equal(list[0].ParentId, JSON.parse(berth.ok(['image', 'inspect', 'busybox']))[0].Id);
  });

  it('prune removes dangling images no container uses; -a also unused tagged ones', () => {
    const danglingId = berth.ok(['commit', 'src']).trim();
    const keptId = berth.ok(['commit', 'src']).trim();
    berth.ok(['create', '--name', 'user-of-kept', keptId]);
    assert.equal(berth.ok(['images', '-q', '--no-trunc', '--filter', 'dangling=true']).trim().split('\n').sort().join(','), [danglingId, keptId].sort().join(','));
    const out = berth.ok(['image', 'prune', '-f']);
    assert.match(out, new RegExp(`deleted: ${danglingId}`));
    assert.match(out, /Total reclaimed space: /);
    assert.equal(berth.docker(['image', 'inspect', danglingId]).code, 1);
    assert.equal(berth.docker(['image', 'inspect', keptId]).code, 0, 'used by a container');
    // -a with a label filter: only the unused tagged image with that label goes.
    berth.ok(['image', 'prune', '-a', '-f', '--filter', 'label=tier=silver']);
    assert.deepEqual(repoTags('--filter', 'label=tier'), ['app/gold:1']);
    assert.equal(berth.docker(['image', 'inspect', 'busybox']).code, 0, 'busybox is used by containers');
  });

  it('rmi: a parent with children cannot be deleted; removing the child takes its untagged parent along', () => {
    berth.ok(['run', '--name', 'layer1', 'busybox', 'sh', '-c', 'echo 1 > /one']);
    const parentId = berth.ok(['commit', 'layer1', 'chain/parent:1']).trim();
    berth.ok(['run', '--name', 'layer2', 'chain/parent:1', 'sh', '-c', 'echo 2 > /two']);
    const childId = berth.ok(['commit', 'layer2', 'chain/child:1']).trim();
    berth.ok(['rm', 'layer1', 'layer2']);
    for (const force of [[], ['-f']]) {
      const r = berth.docker(['rmi', ...force, parentId]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`conflict: unable to delete ${parentId.slice(7, 19)} \\(cannot be forced\\) - image has dependent child images`));
    }
    const untagged = berth.ok(['rmi', 'chain/parent:1']);
    assert.match(untagged, /Untagged: chain\/parent:1/);
    assert.doesNotMatch(untagged, /Deleted/);
    assert.equal(berth.docker(['image', 'inspect', parentId]).code, 0, 'kept, untagged, for its child');
    assert.equal(berth.ok(['run', '--rm', 'chain/child:1', 'cat', '/one', '/two']), '1\n2\n');
    const out = berth.ok(['rmi', 'chain/child:1']);
    assert.match(out, new RegExp(`Deleted: ${childId}`));
    assert.match(out, new RegExp(`Deleted: ${parentId}`), 'the untagged parent is pruned');
    assert.equal(berth.docker(['image', 'inspect', parentId]).code, 1);
  });
});
