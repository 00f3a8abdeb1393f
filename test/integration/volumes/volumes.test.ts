import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';

describe('volumes and mounts', () => {
  let berth: Berth;
  let hostDir: string;
  before(async () => {
    berth = await startBerth();
    hostDir = mkdtempSync(join(tmpdir(), 'berth-bind-'));
  });
  after(async () => {
    await berth?.cleanup();
    rmSync(hostDir, { recursive: true, force: true });
  });

  it('creates, lists, inspects and removes named volumes', () => {
    berth.ok(['volume', 'create', '--label', 'team=a', 'data1']);
    berth.ok(['volume', 'create', 'data2']);
    assert.deepEqual(berth.ok(['volume', 'ls', '-q']).trim().split('\n').sort(), ['data1', 'data2']);
    assert.equal(berth.ok(['volume', 'ls', '-q', '--filter', 'label=team=a']).trim(), 'data1');
    const [v] = JSON.parse(berth.ok(['volume', 'inspect', 'data1']));
    assert.equal(v.Name, 'data1');
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.equal(v.Labels.team, 'a');
    assert.ok(v.Mountpoint.startsWith(berth.dataRoot));
    assert.ok(!Number.isNaN(Date.parse(v.CreatedAt)));
    berth.ok(['volume', 'rm', 'data2']);
    assert.match(berth.docker(['volume', 'inspect', 'data2']).stderr, /no such volume/);
  });

  it('keeps named volume data across containers and refuses to remove a volume in use', () => {
    berth.ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/file']);
    assert.equal(berth.ok(['run', '--rm', '-v', 'data1:/data:ro', 'busybox', 'cat', '/data/file']), 'persisted\n');
    const ro = berth.docker(['run', '--rm', '-v', 'data1:/data:ro', 'busybox', 'touch', '/data/x']);
    assert.notEqual(ro.code, 0);
    berth.ok(['create', '--name', 'holder', '-v', 'data1:/data', 'busybox', 'true']);
    const inUse = berth.docker(['volume', 'rm', 'data1']);
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /volume is in use/);
    const [c] = JSON.parse(berth.ok(['inspect', 'holder']));
    assert.deepEqual(
      c.Mounts.map((m: { Type: string; Name: string; Destination: string; RW: boolean }) => [m.Type, m.Name, m.Destination, m.RW]),
      [['volume', 'data1', '/data', true]],
    );
    berth.ok(['rm', 'holder']);
    berth.ok(['volume', 'rm', 'data1']);
  });

  it('copies image content into a new volume unless nocopy', () => {
    assert.match(berth.ok(['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'cat', '/etc/passwd']), /^root:/);
    // Only the generated hosts/hostname/resolv.conf mount points, none of the image's files.
    assert.equal(berth.ok(['run', '--rm', '-v', 'emptyvol:/etc:nocopy', 'busybox', 'ls', '/etc']).trim(), 'hostname\nhosts\nresolv.conf');
    berth.ok(['volume', 'rm', 'etcvol', 'emptyvol']);
  });

  it('bind-mounts host directories and never deletes their content', () => {
    writeFileSync(join(hostDir, 'from-host'), 'hi\n');
    assert.equal(berth.ok(['run', '--rm', '-v', `${hostDir}:/mnt`, 'busybox', 'sh', '-c', 'cat /mnt/from-host; echo back > /mnt/from-container']), 'hi\n');
    assert.equal(readFileSync(join(hostDir, 'from-container'), 'utf8'), 'back\n');
    const missing = join(hostDir, 'created-by-v');
    berth.ok(['run', '--rm', '-v', `${missing}:/x`, 'busybox', 'true']);
    assert.ok(existsSync(missing), '-v creates a missing host directory');
    const refused = berth.docker(['run', '--rm', '--mount', `type=bind,source=${join(hostDir, 'nope')},target=/x`, 'busybox', 'true']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /bind source path does not exist/);
    berth.ok(['run', '-d', '--name', 'binder', '-v', `${hostDir}:/mnt`, 'busybox', 'sleep', '60']);
    berth.ok(['rm', '-f', '-v', 'binder']);
    assert.ok(existsSync(join(hostDir, 'from-host')), 'removing a container keeps bind-mounted content');
  });

  it('mounts tmpfs, honours --read-only, --volumes-from and removes anonymous volumes with rm -v', () => {
    assert.match(berth.ok(['run', '--rm', '--tmpfs', '/scratch:size=1m', 'busybox', 'sh', '-c', 'df /scratch | tail -1']), /^tmpfs\s+1024\s/);
    assert.match(berth.ok(['run', '--rm', '--mount', 'type=tmpfs,target=/t,tmpfs-size=2097152', 'busybox', 'sh', '-c', 'df /t | tail -1']), /^tmpfs\s+2048\s/);
    const ro = berth.docker(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);

    berth.ok(['create', '--name', 'anon', '-v', '/data', 'busybox', 'sh', '-c', 'echo shared > /data/f']);
    berth.ok(['start', '-a', 'anon']);
    const [c] = JSON.parse(berth.ok(['inspect', 'anon']));
    const anonName = c.Mounts[0].Name;
    assert.match(anonName, /^[0-9a-f]{64}$/);
    assert.equal(berth.ok(['run', '--rm', '--volumes-from', 'anon', 'busybox', 'cat', '/data/f']), 'shared\n');
    berth.ok(['rm', '-v', 'anon']);
    assert.doesNotMatch(berth.ok(['volume', 'ls', '-q']), new RegExp(anonName));
  });
});
