import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import { discardCgroupLimits } from '../../../../src/engine/containers/no-cgroup-limits';

describe('cgroup limits on a daemon without cgroups (rootless on v1), as dockerd', () => {
  it("drops each limit with dockerd's warning and keeps the rest of the HostConfig", () => {
    const { hostConfig, warnings } = discardCgroupLimits({ Memory: 64 << 20, PidsLimit: 10, CpuShares: 100, CpusetCpus: '0', BlkioWeight: 300, NetworkMode: 'bridge' });
    assert.deepEqual(warnings, [
      'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
      'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
      'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.',
      'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.',
      'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    ]);
    assert.equal(hostConfig.Memory, 0);
    assert.equal(hostConfig.MemorySwap, -1);
    assert.equal(hostConfig.PidsLimit, null);
    assert.equal(hostConfig.CpuShares, 0);
    assert.equal(hostConfig.NetworkMode, 'bridge');
  });

  it('says nothing when no limit was asked for', () => {
    assert.deepEqual(discardCgroupLimits({ Memory: 0, PidsLimit: 0, CpuShares: 0, BlkioWeightDevice: [] }).warnings, []);
  });

  it("refuses --cpus with dockerd's message", () => {
    assert.throws(() => discardCgroupLimits({ NanoCpus: 1e9 }), (err: Error) => err instanceof InvalidParameterError && /NanoCPUs can not be set/.test(err.message));
  });
});
