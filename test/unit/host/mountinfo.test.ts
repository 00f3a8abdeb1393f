import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mountArgs } from '../../../src/host/mount';
import { isMountPoint, lockedFlagsOf, parseMountinfo } from '../../../src/host/mountinfo';

describe('mountinfo', () => {
  it('reads mount point, mount options, propagation tags, type, source and super options, decoding octal escapes', () => {
    const text =
      '22 1 0:20 / / rw,relatime - ext4 /dev/vda rw\n' +
      '30 22 0:25 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n' +
      '41 22 0:50 / /var/lib/my\\040dir/merged rw - overlay overlay rw,lowerdir=/a\n';
    assert.deepEqual(parseMountinfo(text), [
      { mountPoint: '/', mountOptions: 'rw,relatime', fsType: 'ext4', source: '/dev/vda', superOptions: 'rw', optional: '' },
      { mountPoint: '/sys/fs/cgroup', mountOptions: 'rw,nosuid', fsType: 'cgroup2', source: 'cgroup2', superOptions: 'rw,nsdelegate', optional: 'shared:4' },
      { mountPoint: '/var/lib/my dir/merged', mountOptions: 'rw', fsType: 'overlay', source: 'overlay', superOptions: 'rw,lowerdir=/a', optional: '' },
    ]);
  });

  it('names the locked flags of the mount holding a path (the longest mount point, the last of equals)', () => {
    const entries = parseMountinfo(
      '22 1 0:20 / / rw,relatime - ext4 /dev/vda rw\n' +
        '30 22 0:25 / /run rw,nosuid,nodev,noexec - tmpfs tmpfs rw\n' +
        '31 30 0:26 / /run/x ro,nosuid,noatime - tmpfs tmpfs rw\n' +
        '32 30 0:27 / /run/x rw,nodev - tmpfs tmpfs rw\n',
    );
    assert.deepEqual(lockedFlagsOf(entries, '/var/lib/berth'), ['relatime']);
    assert.deepEqual(lockedFlagsOf(entries, '/run/a/b'), ['nosuid', 'nodev', 'noexec']);
    assert.deepEqual(lockedFlagsOf(entries, '/run/x/f'), ['nodev']);
    assert.deepEqual(lockedFlagsOf(entries, '/runx'), ['relatime']);
  });

  it('knows that / is mounted and a fresh path is not', async () => {
    assert.equal(await isMountPoint('/'), true);
    assert.equal(await isMountPoint('/nonexistent-berth-path'), false);
  });
});

describe('mount arguments', () => {
  it('builds argv from typed specs', () => {
    assert.deepEqual(mountArgs({ type: 'overlay', lowerDirs: ['/l2', '/l1'], upperDir: '/u', workDir: '/w' }), [
      '-t', 'overlay', '-o', 'lowerdir=/l2:/l1,upperdir=/u,workdir=/w', 'overlay',
    ]);
    assert.deepEqual(mountArgs({ type: 'bind', source: '/src' }), ['--bind', '/src']);
    assert.deepEqual(mountArgs({ type: 'filesystem', fsType: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }), ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs']);
    assert.deepEqual(mountArgs({ type: 'filesystem', fsType: 'ext4', source: '/dev/x', options: [] }), ['-t', 'ext4', '/dev/x']);
  });
});
