import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupVersion, detectCgroupLayout, parseCgroupLayout } from '../../../src/runtime/cgroups';

const ROOT = '22 1 0:20 / / rw,relatime - ext4 /dev/vda rw\n';
const V1 =
  ROOT +
  '30 22 0:25 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n' +
  '31 30 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n' +
  '32 30 0:27 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n';
const HYBRID = V1 + '33 30 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n';
const V2 = ROOT + '30 22 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';

describe('cgroup layout', () => {
  it('tells v1, hybrid and v2 apart from mountinfo', () => {
    assert.equal(parseCgroupLayout(V1), 'v1');
    assert.equal(parseCgroupLayout(HYBRID), 'hybrid');
    assert.equal(parseCgroupLayout(V2), 'v2');
  });

  it('honours the last mount on a mount point', () => {
    assert.equal(parseCgroupLayout(V1 + '40 22 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n'), 'v2');
  });

  it('reports hybrid as CgroupVersion "1", like dockerd', () => {
    assert.equal(cgroupVersion('hybrid'), '1');
    assert.equal(cgroupVersion('v1'), '1');
    assert.equal(cgroupVersion('v2'), '2');
  });

  it('detects the host layout', () => {
    assert.ok(['v1', 'v2', 'hybrid'].includes(detectCgroupLayout()));
  });
});
