import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withRootlessInfo } from '../../../../src/engine/system/rootless-info';

const base = () => ({ CgroupVersion: '1', CgroupDriver: 'cgroupfs', MemoryLimit: true, SecurityOptions: ['name=seccomp,profile=builtin'], Warnings: [] as string[] });

describe('docker info of a rootless daemon', () => {
  it("lists name=rootless and, without cgroups on v1, dockerd's warning and driver none", () => {
    const info = withRootlessInfo(base(), { cgroups: false }) as ReturnType<typeof base>;
    assert.deepEqual(info.SecurityOptions, ['name=seccomp,profile=builtin', 'name=rootless']);
    assert.equal(info.CgroupDriver, 'none');
    assert.equal(info.MemoryLimit, false);
    assert.deepEqual(info.Warnings, ['WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.']);
  });

  it('keeps the cgroup facts where cgroups are delegated', () => {
    const info = withRootlessInfo({ ...base(), CgroupVersion: '2' }, { cgroups: true }) as ReturnType<typeof base>;
    assert.equal(info.CgroupDriver, 'cgroupfs');
    assert.deepEqual(info.Warnings, []);
  });
});
