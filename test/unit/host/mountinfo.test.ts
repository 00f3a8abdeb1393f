import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mountArgs } from '../../../src/host/mount';
import { isMountPoint, parseMountinfo } from '../../../src/host/mountinfo';

describe('mountinfo', () => {
  it('reads mount point, type, source and super options, decoding octal escapes', () => {
    const text =
      '22 1 0:20 / / rw,relatime - ext4 /dev/vda rw\n' +
      '30 22 0:25 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n' +
      '41 22 0:50 / /var/lib/my\\040dir/merged rw - overlay overlay rw,lowerdir=/a\n';
    assert.deepEqual(parseMountinfo(text), [
      { mountPoint: '/', fsType: 'ext4', source: '/dev/vda', superOptions: 'rw' },
      { mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2', source: 'cgroup2', superOptions: 'rw,nsdelegate' },
      { mountPoint: '/var/lib/my dir/merged', fsType: 'overlay', source: 'overlay', superOptions: 'rw,lowerdir=/a' },
    ]);
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
