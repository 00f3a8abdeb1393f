import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';

/** --ipc, --pid, --uts, --sysctl and --network container: as dockerd runs them (and Kubernetes pods rely on). */
describe('containers: shared namespaces and sysctls', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
    berth.ok(['run', '-d', '--name', 'pod', '--hostname', 'podhost', '--ipc', 'shareable', '--dns', '10.9.8.7', 'busybox', 'sleep', '300']);
    berth.ok(['run', '-d', '--name', 'private', 'busybox', 'sleep', '300']);
  });
  after(async () => {
    await berth?.cleanup();
  });

  const nsOf = (name: string, ns: string) => {
    const pid = berth.ok(['inspect', '-f', '{{.State.Pid}}', name]).trim();
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  };

  it('applies --sysctl, and the network defaults only in a network namespace of its own', () => {
    assert.equal(berth.ok(['run', '--rm', '--sysctl', 'kernel.shm_rmid_forced=1', 'busybox', 'cat', '/proc/sys/kernel/shm_rmid_forced']).trim(), '1');
    assert.equal(berth.ok(['run', '--rm', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start']).trim(), '0');
    // Joining a host-network container must not try to set network sysctls on the host.
    berth.ok(['run', '-d', '--name', 'hostnet', '--network', 'host', 'busybox', 'sleep', '300']);
    assert.equal(berth.ok(['run', '--rm', '--network', 'container:hostnet', 'busybox', 'echo', 'joined']).trim(), 'joined');
  });

  it('gives a host-network container the host’s resolv.conf, or its --dns and --dns-search when set', () => {
    const host = berth.ok(['run', '--rm', '--network', 'host', 'busybox', 'cat', '/etc/resolv.conf']);
    assert.equal(host, readFileSync('/etc/resolv.conf', 'utf8'));
    const custom = berth.ok(['run', '--rm', '--network', 'host', '--dns', '10.9.8.6', '--dns-search', 'berth.test', 'busybox', 'cat', '/etc/resolv.conf']);
    assert.deepEqual(custom.trim().split('\n').sort(), ['nameserver 10.9.8.6', 'search berth.test']);
  });

  it("joins another container's IPC and PID namespaces", () => {
    const out = berth.ok(['run', '--rm', '--ipc', 'container:pod', '--pid', 'container:pod', 'busybox', 'sh', '-c', 'echo $(tr "\\0" " " < /proc/1/cmdline); readlink /proc/self/ns/ipc']);
    assert.match(out, /^sleep 300\n/);
    assert.equal(out.trim().split('\n').pop(), nsOf('pod', 'ipc'));
  });

  it('uses the host namespaces for --pid host, --ipc host and --uts host', () => {
    assert.equal(berth.ok(['run', '--rm', '--pid', 'host', 'busybox', 'readlink', '/proc/self/ns/pid']).trim(), readlinkSync('/proc/self/ns/pid'));
    assert.equal(berth.ok(['run', '--rm', '--ipc', 'host', 'busybox', 'readlink', '/proc/self/ns/ipc']).trim(), readlinkSync('/proc/self/ns/ipc'));
    assert.equal(berth.ok(['run', '--rm', '--uts', 'host', 'busybox', 'readlink', '/proc/self/ns/uts']).trim(), readlinkSync('/proc/self/ns/uts'));
  });

  it("refuses donors that are not shareable or not running, in dockerd's words", () => {
    const plain = berth.docker(['run', '--rm', '--ipc', 'container:private', 'busybox', 'true']);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /can't join IPC of container [0-9a-f]{64}: non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);
    berth.ok(['create', '--name', 'idle', '--ipc', 'shareable', 'busybox', 'true']);
    const idle = berth.docker(['run', '--rm', '--pid', 'container:idle', 'busybox', 'true']);
    assert.match(idle.stderr, /container [0-9a-f]{64} is not running/);
  });

  it("shares the network container's hostname, /etc/hosts and /etc/resolv.conf", () => {
    const out = berth.ok(['run', '--rm', '--network', 'container:pod', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; grep nameserver /etc/resolv.conf']);
    assert.deepEqual(out.trim().split('\n'), ['podhost', 'podhost', 'nameserver 10.9.8.7']);
    // A later change to the pod's resolv.conf (Kubernetes rewrites it) is what its members see.
    const path = berth.ok(['inspect', '-f', '{{.ResolvConfPath}}', 'pod']).trim();
    berth.ok(['run', '--rm', '-v', `${path}:/target`, 'busybox', 'sh', '-c', 'echo "nameserver 10.1.2.3" > /target']);
    assert.equal(berth.ok(['run', '--rm', '--network', 'container:pod', 'busybox', 'cat', '/etc/resolv.conf']).trim(), 'nameserver 10.1.2.3');
  });
});
