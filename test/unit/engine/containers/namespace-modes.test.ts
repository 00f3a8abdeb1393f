import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError } from '../../../../src/errors';
import { namespacePlan } from '../../../../src/engine/containers/namespace-modes';
import { minimalSpecInput } from '../../../fixtures/spec-input';
import { buildOciSpec, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, type SpecInput } from '../../../../src/engine/containers/oci-spec';
import type { ContainerRecord } from '../../../../src/engine/containers/types';

const ID = 'b'.repeat(64);

const input = (over: Partial<SpecInput> = {}): SpecInput => minimalSpecInput(ID, over);

const peer = (id: string, pid: number, running: boolean, ipcMode = ''): ContainerRecord =>
  ({ id, state: { Running: running, Pid: pid }, hostConfig: { IpcMode: ipcMode } }) as unknown as ContainerRecord;

describe('namespace modes (IpcMode, PidMode, UTSMode)', () => {
  const peers: Record<string, ContainerRecord> = {
    pod: peer('pod'.padEnd(64, '0'), 4242, true, 'shareable'),
    plain: peer('plain'.padEnd(64, '0'), 77, true, 'private'),
    down: peer('down'.padEnd(64, '0'), 0, false, 'shareable'),
  };
  const lookup = (ref: string) => peers[ref];

  it('makes new namespaces by default', () => {
    assert.deepEqual(namespacePlan({}, lookup), { ipc: 'private', pid: 'private', uts: 'private' });
    assert.deepEqual(namespacePlan({ IpcMode: 'shareable', PidMode: '' }, lookup), { ipc: 'private', pid: 'private', uts: 'private' });
  });

  it('keeps the host namespaces for host modes, with the host /dev/shm', () => {
    const plan = namespacePlan({ IpcMode: 'host', PidMode: 'host', UTSMode: 'host' }, lookup);
    assert.equal(plan.ipc, 'host');
    assert.equal(plan.pid, 'host');
    assert.equal(plan.uts, 'host');
    assert.equal(plan.shmMount?.source, '/dev/shm');
  });

  it("joins a running container's IPC and PID namespaces", () => {
    const plan = namespacePlan({ IpcMode: 'container:pod', PidMode: 'container:pod' }, lookup);
    assert.deepEqual(plan.ipc, { path: '/proc/4242/ns/ipc' });
    assert.deepEqual(plan.pid, { path: '/proc/4242/ns/pid' });
  });

  it("refuses stopped or non-shareable donors with dockerd's words", () => {
    assert.throws(() => namespacePlan({ IpcMode: 'container:down' }, lookup), (e: Error) => e instanceof ConflictError && /can't join IPC of container down0+: container down0+ is not running/.test(e.message));
    assert.throws(() => namespacePlan({ IpcMode: 'container:plain' }, lookup), /non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);
    assert.throws(() => namespacePlan({ PidMode: 'container:down' }, lookup), /container down0+ is not running/);
  });
});

describe('buildOciSpec: namespaces, sysctls, masked and read-only paths', () => {
  it('joins or drops namespaces as planned; no hostname without a UTS namespace', () => {
    const spec = buildOciSpec(input({ ipcNamespace: { path: '/proc/1/ns/ipc' }, pidNamespace: 'host', utsNamespace: 'host' }));
    const ns = spec.linux.namespaces;
    assert.deepEqual(ns.find((n) => n.type === 'ipc'), { type: 'ipc', path: '/proc/1/ns/ipc' });
    assert.equal(ns.some((n) => n.type === 'pid'), false);
    assert.equal(ns.some((n) => n.type === 'uts'), false);
    assert.equal(spec.hostname, undefined);
  });

  it('sets the network sysctls only in a network namespace of its own; user sysctls always', () => {
    const own = buildOciSpec(input({ sysctls: { 'kernel.shm_rmid_forced': '1' } })).linux.sysctl;
    assert.equal(own['net.ipv4.ping_group_range'], '0 2147483647');
    assert.equal(own['kernel.shm_rmid_forced'], '1');
    for (const over of [{ sharedNetns: true, netnsPath: '/proc/9/ns/net' }, { hostNetwork: true }]) {
      const sysctl = buildOciSpec(input({ ...over, sysctls: { 'kernel.shm_rmid_forced': '1' } })).linux.sysctl;
      assert.deepEqual(sysctl, { 'kernel.shm_rmid_forced': '1' }, JSON.stringify(over));
    }
  });

  it('replaces the default masked and read-only paths when given, keeps them otherwise', () => {
    const custom = buildOciSpec(input({ maskedPaths: ['/proc/x'], readonlyPaths: [] })).linux;
    assert.deepEqual(custom.maskedPaths, ['/proc/x']);
    assert.deepEqual(custom.readonlyPaths, []);
    const plain = buildOciSpec(input()).linux;
    assert.deepEqual(plain.maskedPaths, [...DEFAULT_MASKED_PATHS]);
    assert.deepEqual(plain.readonlyPaths, [...DEFAULT_READONLY_PATHS]);
    assert.deepEqual(buildOciSpec(input({ privileged: true, maskedPaths: ['/proc/x'] })).linux.maskedPaths, []);
  });
});
