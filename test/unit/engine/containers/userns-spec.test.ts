import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import { minimalSpecInput } from '../../../fixtures/spec-input';
import { buildOciSpec, type SpecInput } from '../../../../src/engine/containers/oci-spec';
import { checkUsernsMode, containerIdMap } from '../../../../src/engine/containers/userns-mode';
import { ociMappings, type IdMap } from '../../../../src/engine/userns/id-map';

const MAP: IdMap = { uids: [{ containerId: 0, hostId: 100000, size: 65536 }], gids: [{ containerId: 0, hostId: 200000, size: 65536 }] };

const input = (over: Partial<SpecInput> = {}): SpecInput => minimalSpecInput('c', over);

describe('userns-remap in the OCI spec', () => {
  it('adds a user namespace with the mappings, a writable cgroup mount and no ping_group_range (as dockerd)', () => {
    const spec = buildOciSpec(input({ userNamespace: { mappings: ociMappings(MAP) } }));
    assert.deepEqual(spec.linux.namespaces[0], { type: 'user' });
    assert.deepEqual(spec.linux.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
    assert.deepEqual(spec.linux.gidMappings, [{ containerID: 0, hostID: 200000, size: 65536 }]);
    assert.equal(spec.linux.sysctl['net.ipv4.ping_group_range'], undefined);
    assert.equal(spec.linux.sysctl['net.ipv4.ip_unprivileged_port_start'], '0');
    assert.ok(!spec.mounts.find((m) => m.type === 'cgroup')!.options.includes('ro'));
  });

  it('joins a peer user namespace by path', () => {
    const spec = buildOciSpec(input({ userNamespace: { mappings: ociMappings(MAP), path: '/proc/42/ns/user' } }));
    assert.deepEqual(spec.linux.namespaces[0], { type: 'user', path: '/proc/42/ns/user' });
  });

  it('has no user namespace without remapping', () => {
    const spec = buildOciSpec(input());
    assert.ok(!spec.linux.namespaces.some((n) => n.type === 'user'));
    assert.equal(spec.linux.uidMappings, undefined);
    assert.equal(spec.linux.sysctl['net.ipv4.ping_group_range'], '0 2147483647');
  });
});

describe('UsernsMode under a remapping daemon', () => {
  it('gives every container the daemon mapping except --userns=host', () => {
    assert.equal(containerIdMap(MAP, {}), MAP);
    assert.equal(containerIdMap(MAP, { UsernsMode: '' }), MAP);
    assert.equal(containerIdMap(MAP, { UsernsMode: 'host' }), undefined);
    assert.equal(containerIdMap(undefined, {}), undefined);
  });

  it("refuses privileged, host network and host PID without --userns=host, with dockerd's messages", () => {
    const refused = (hc: Record<string, unknown>, msg: string) =>
      assert.throws(() => checkUsernsMode(hc, true), (err: unknown) => err instanceof InvalidParameterError && err.message === msg);
    refused({ Privileged: true }, 'privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode');
    refused({ NetworkMode: 'host' }, "cannot share the host's network namespace when user namespaces are enabled");
    refused({ PidMode: 'host' }, 'cannot share the host PID namespace when user namespaces are enabled');
    for (const ok of [{ Privileged: true, UsernsMode: 'host' }, { NetworkMode: 'host', PidMode: 'host', UsernsMode: 'host' }, { IpcMode: 'host' }]) checkUsernsMode(ok, true);
    checkUsernsMode({ Privileged: true }, false);
  });
});
