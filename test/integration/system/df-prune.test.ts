import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';

describe('docker system df, ps -s and the prunes', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('ps -s shows what a container wrote; system df -v lists images, containers and volumes', () => {
    berth.ok(['run', '--name', 'writer', '-v', 'dfvol:/data', 'busybox', 'sh', '-c', 'head -c 1048576 /dev/zero > /blob; head -c 2048 /dev/zero > /data/f']);
    const size = berth.ok(['ps', '-a', '-s', '--filter', 'name=writer', '--format', '{{.Size}}']).trim();
    assert.match(size, /^1\.05MB \(virtual /);
    const df = JSON.parse(`[${berth.ok(['system', 'df', '--format', '{{json .}}']).trim().split('\n').join(',')}]`);
    const byType = Object.fromEntries(df.map((r: { Type: string }) => [r.Type, r]));
    assert.equal(byType.Images.TotalCount, '1');
    assert.equal(byType.Images.Active, '1');
    assert.equal(byType.Containers.TotalCount, '1');
    assert.match(byType.Containers.Size, /^1\.0\d*MB/);
    assert.equal(byType['Local Volumes'].TotalCount, '1');
    assert.match(byType['Local Volumes'].Size, /^2\.048kB/);
    const verbose = berth.ok(['system', 'df', '-v']);
    assert.match(verbose, /busybox\s+latest/);
    assert.match(verbose, /dfvol\s+1\s+2\.048kB/);
  });

  it('container prune removes stopped containers only; system prune does the rest', () => {
    berth.ok(['run', '-d', '--name', 'alive', 'busybox', 'sleep', '1000']);
    berth.ok(['create', '--name', 'idle', '--label', 'keep=yes', 'busybox', 'true']);
    const out = berth.ok(['container', 'prune', '-f', '--filter', 'label!=keep=yes']);
    assert.match(out, /Deleted Containers:/);
    assert.equal(berth.docker(['inspect', 'writer']).code, 1);
    assert.equal(berth.docker(['inspect', 'idle']).code, 0, 'label!= kept it');
    assert.equal(berth.docker(['inspect', 'alive']).code, 0, 'running containers stay');
    berth.ok(['network', 'create', 'unused-net']);
    const sys = berth.ok(['system', 'prune', '-f', '--volumes']);
    assert.match(sys, /Total reclaimed space/);
    assert.equal(berth.docker(['inspect', 'idle']).code, 1);
    assert.equal(berth.docker(['network', 'inspect', 'unused-net']).code, 1);
    assert.equal(berth.docker(['inspect', 'alive']).code, 0);
  });
});
