import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rootlessHybridWrapperScript } from '../../../src/runtime/crun-hybrid';
import { highestMappedGid, rootlessSpec } from '../../../src/runtime/rootless-spec';
import type { RuntimeSpec } from '../../../src/runtime/types';

const spec = (): RuntimeSpec => ({
  linux: {
    cgroupsPath: '/berth/abc',
    resources: { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 1 } },
    sysctl: { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' },
  },
});

describe('rootless bundle specs', () => {
  it('carry no cgroupsPath and no resources without delegated cgroups (v1)', () => {
    const s = spec();
    rootlessSpec(s, { controllers: [] }, 65536);
    assert.equal(s.linux!.cgroupsPath, undefined);
    assert.equal(s.linux!.resources, undefined);
  });

  it('put containers under the delegated cgroup on v2, without the device rules', () => {
    const s = spec();
    rootlessSpec(s, { controllers: ['memory', 'pids'], parent: '/user.slice/user-1000.slice/user@1000.service/berth' }, 65536);
    assert.equal(s.linux!.cgroupsPath, '/user.slice/user-1000.slice/user@1000.service/berth/abc');
    assert.deepEqual(s.linux!.resources, { memory: { limit: 1 } });
  });

  it('narrow the default ping_group_range to the mapped groups, leave a chosen one', () => {
    const s = spec();
    rootlessSpec(s, { controllers: [] }, 65536);
    assert.equal(s.linux!.sysctl!['net.ipv4.ping_group_range'], '0 65536');
    const chosen: RuntimeSpec = { linux: { sysctl: { 'net.ipv4.ping_group_range': '0 10' } } };
    rootlessSpec(chosen, { controllers: [] }, 65536);
    assert.equal(chosen.linux!.sysctl!['net.ipv4.ping_group_range'], '0 10');
  });

  it('find the highest mapped gid', () => {
    assert.equal(highestMappedGid('         0       1001          1\n         1     100000      65536\n'), 65536);
  });
});

describe('the rootless crun wrapper on hybrid hosts', () => {
  it('hides the cgroup2 mount under a tmpfs (no umount: the mount is locked in a user namespace)', () => {
    const text = rootlessHybridWrapperScript('/usr/bin/crun', { unshare: '/usr/bin/unshare', sh: '/bin/sh', mount: '/bin/mount' });
    assert.match(text, /\/bin\/mount'\\'' -t tmpfs -o ro,size=4k berth-no-cgroup2 \/sys\/fs\/cgroup\/unified \|\| exit 1/);
    assert.doesNotMatch(text, /umount/);
    assert.match(text, /exec '\/usr\/bin\/unshare' --mount --propagation private '\/bin\/sh' -c .* '\/usr\/bin\/crun' "\$@"/);
  });
});
