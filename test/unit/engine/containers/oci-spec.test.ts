import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import { ALL_CAPABILITIES } from '../../../../src/runtime/capabilities';
import {
  hostCapabilities,
  buildOciSpec,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  parseDeviceCgroupRule,
  tweakCapabilities,
  type SpecInput,
} from '../../../../src/engine/containers/oci-spec';

const ID = 'a'.repeat(64);

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    id: ID,
    rootfs: `/var/lib/berth/containers/${ID}/merged`,
    readonlyRootfs: false,
    args: ['sh', '-c', 'echo hi'],
    env: ['PATH=/usr/bin:/bin', 'HOSTNAME=aaaaaaaaaaaa'],
    cwd: '/work',
    user: { uid: 0, gid: 0, additionalGids: [10] },
    tty: false,
    hostname: 'aaaaaaaaaaaa',
    privileged: false,
    capAdd: [],
    capDrop: [],
    shmSize: 67108864,
    extraMounts: [],
    cgroupsPath: `/berth/${ID}`,
    cgroupVersion: 1,
    ...over,
  };
}

const mount = (spec: ReturnType<typeof buildOciSpec>, dest: string) => spec.mounts.find((m) => m.destination === dest);

describe('buildOciSpec defaults (as dockerd)', () => {
  const spec = buildOciSpec(input());

  it('fills process from the input', () => {
    assert.equal(spec.ociVersion, '1.0.2-dev');
    assert.deepEqual(spec.process.args, ['sh', '-c', 'echo hi']);
    assert.deepEqual(spec.process.env, ['PATH=/usr/bin:/bin', 'HOSTNAME=aaaaaaaaaaaa']);
    assert.equal(spec.process.cwd, '/work');
    assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [10] });
    assert.equal(spec.process.terminal, false);
    assert.equal(spec.process.consoleSize, undefined);
    assert.equal(spec.process.noNewPrivileges, false);
    assert.equal(spec.process.oomScoreAdj, 0);
    assert.equal(spec.process.rlimits, undefined, 'rlimits are inherited unless --ulimit asks');
    assert.deepEqual(spec.root, { path: input().rootfs, readonly: false });
    assert.equal(spec.hostname, 'aaaaaaaaaaaa');
    assert.equal(spec.linux.cgroupsPath, `/berth/${ID}`);
  });

  it('gives the default capability set to bounding, effective and permitted', () => {
    assert.deepEqual(spec.process.capabilities.bounding, DEFAULT_CAPABILITIES);
    assert.deepEqual(spec.process.capabilities.effective, DEFAULT_CAPABILITIES);
    assert.deepEqual(spec.process.capabilities.permitted, DEFAULT_CAPABILITIES);
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN') && !DEFAULT_CAPABILITIES.includes('CAP_NET_ADMIN'));
  });

  it("mounts dockerd's defaults in its order, /dev/shm sized by ShmSize", () => {
    assert.deepEqual(
      spec.mounts.map((m) => `${m.destination} ${m.type} ${m.source} ${m.options.join(',')}`),
      [
        '/proc proc proc nosuid,noexec,nodev',
        '/dev tmpfs tmpfs nosuid,strictatime,mode=755,size=65536k',
        '/dev/pts devpts devpts nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5',
        '/sys sysfs sysfs nosuid,noexec,nodev,ro',
        '/sys/fs/cgroup cgroup cgroup ro,nosuid,noexec,nodev',
        '/dev/mqueue mqueue mqueue nosuid,noexec,nodev',
        '/dev/shm tmpfs shm nosuid,noexec,nodev,mode=1777,size=67108864',
      ],
    );
  });

  it('creates mount, network, uts, pid and ipc namespaces; cgroup only on v2', () => {
    assert.deepEqual(spec.linux.namespaces.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc']);
    const v2 = buildOciSpec(input({ cgroupVersion: 2 }));
    assert.deepEqual(v2.linux.namespaces.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc', 'cgroup']);
  });

  it('joins a given network namespace or shares the host one', () => {
    const joined = buildOciSpec(input({ netnsPath: '/run/berth/netns/x' }));
    assert.deepEqual(joined.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/berth/netns/x' });
    assert.ok(joined.linux.sysctl['net.ipv4.ping_group_range']);
    const host = buildOciSpec(input({ hostNetwork: true }));
    assert.equal(host.linux.namespaces.find((n) => n.type === 'network'), undefined);
    assert.deepEqual(host.linux.sysctl, {});
  });

  it('sets the sysctls of a private network namespace; user sysctls win', () => {
    assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' });
    const custom = buildOciSpec(input({ sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1024', 'net.core.somaxconn': '1024' } }));
    assert.equal(custom.linux.sysctl['net.ipv4.ip_unprivileged_port_start'], '1024');
    assert.equal(custom.linux.sysctl['net.core.somaxconn'], '1024');
  });

  it('masks and read-only-mounts the /proc and /sys paths dockerd does', () => {
    assert.deepEqual(spec.linux.maskedPaths, DEFAULT_MASKED_PATHS);
    assert.ok(spec.linux.maskedPaths.includes('/proc/kcore') && spec.linux.maskedPaths.includes('/sys/firmware'));
    assert.deepEqual(spec.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    assert.deepEqual(spec.linux.readonlyPaths, DEFAULT_READONLY_PATHS);
    const extra = buildOciSpec(input({ extraMaskedPaths: ['/sys/devices/system/cpu/cpu0/thermal_throttle'] }));
    assert.equal(extra.linux.maskedPaths.at(-1), '/sys/devices/system/cpu/cpu0/thermal_throttle');
  });

  it('denies all devices but the default set and fuse-deny; adds --device and --device-cgroup-rule', () => {
    const rules = spec.linux.resources.devices;
    assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
    assert.deepEqual(
      rules.slice(1).map((r) => `${r.allow ? 'allow' : 'deny'} ${r.type} ${r.major}:${r.minor} ${r.access}`),
      ['allow c 1:5 rwm', 'allow c 1:3 rwm', 'allow c 1:9 rwm', 'allow c 1:8 rwm', 'allow c 5:0 rwm', 'allow c 5:1 rwm', 'deny c 10:229 rwm'],
    );
    assert.deepEqual(spec.linux.devices, []);
    const withDevices = buildOciSpec(
      input({
        devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0, access: 'rwm' }],
        deviceCgroupRules: ['c 42:* rmw', 'b *:* m'],
      }),
    );
    assert.deepEqual(withDevices.linux.devices, [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }]);
    assert.deepEqual(withDevices.linux.resources.devices.slice(-3), [
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
      { allow: true, type: 'c', major: 42, access: 'rmw' },
      { allow: true, type: 'b', access: 'm' },
    ]);
  });

  it('sets terminal and consoleSize for TTY containers only', () => {
    const tty = buildOciSpec(input({ tty: true, consoleSize: { height: 40, width: 120 } }));
    assert.equal(tty.process.terminal, true);
    assert.deepEqual(tty.process.consoleSize, { height: 40, width: 120 });
    assert.equal(buildOciSpec(input({ consoleSize: { height: 40, width: 120 } })).process.consoleSize, undefined);
  });

  it('passes rlimits, noNewPrivileges, oomScoreAdj and resources through', () => {
    const s = buildOciSpec(
      input({
        rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }],
        noNewPrivileges: true,
        oomScoreAdj: 500,
        resources: { memory: 1 << 30, memorySwap: 2 << 30, cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, cpusetCpus: '0', pidsLimit: 100 },
      }),
    );
    assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 }]);
    assert.equal(s.process.noNewPrivileges, true);
    assert.equal(s.process.oomScoreAdj, 500);
    assert.deepEqual(s.linux.resources.memory, { limit: 1 << 30, swap: 2 << 30 });
    assert.deepEqual(s.linux.resources.cpu, { shares: 512, quota: 50000, period: 100000, cpus: '0' });
    assert.deepEqual(s.linux.resources.pids, { limit: 100 });
    assert.equal(spec.linux.resources.memory, undefined);
  });

  it('omits additionalGids when there are none', () => {
    assert.deepEqual(buildOciSpec(input({ user: { uid: 1000, gid: 1000, additionalGids: [] } })).process.user, { uid: 1000, gid: 1000 });
  });

  it('is pure: the same input gives the same output and the input is not modified', () => {
    const i = input({ extraMounts: [{ destination: '/etc/hosts', source: '/x/hosts', type: 'bind', options: ['rbind', 'rprivate'] }] });
    const copy = structuredClone(i);
    assert.deepEqual(buildOciSpec(i), buildOciSpec(i));
    assert.deepEqual(i, copy);
  });
});

describe('buildOciSpec mounts', () => {
  const bind = (destination: string, extra: string[] = []) => ({ destination, source: `/host${destination}`, type: 'bind', options: ['rbind', 'rprivate', ...extra] });

  it('appends user mounts after the defaults, parents before children', () => {
    const s = buildOciSpec(input({ extraMounts: [bind('/data/sub/x'), bind('/etc/hosts'), bind('/data'), bind('/etc/hostname')] }));
    assert.deepEqual(s.mounts.slice(7).map((m) => m.destination), ['/data', '/etc/hosts', '/etc/hostname', '/data/sub/x']);
  });

  it('lets a user mount replace the default at the same destination; a user /dev drops /dev/*', () => {
    const shm = buildOciSpec(input({ extraMounts: [bind('/dev/shm/')] }));
    assert.equal(shm.mounts.filter((m) => m.destination === '/dev/shm').length, 1);
    assert.equal(mount(shm, '/dev/shm')?.type, 'bind');
    const dev = buildOciSpec(input({ extraMounts: [bind('/dev')] }));
    assert.deepEqual(dev.mounts.map((m) => m.destination), ['/proc', '/sys', '/sys/fs/cgroup', '/dev']);
  });

  it('ReadonlyRootfs: root read-only, defaults other than /proc and /dev* gain ro, user mounts untouched', () => {
    const s = buildOciSpec(input({ readonlyRootfs: true, extraMounts: [bind('/etc/hosts')] }));
    assert.equal(s.root.readonly, true);
    for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']) assert.ok(!mount(s, d)!.options.includes('ro'), d);
    assert.ok(mount(s, '/sys')!.options.includes('ro'));
    assert.ok(mount(s, '/sys/fs/cgroup')!.options.includes('ro'));
    assert.deepEqual(mount(s, '/etc/hosts')!.options, ['rbind', 'rprivate']);
  });

  it('privileged: all capabilities, rw /sys and cgroup, no masked paths, every device allowed', () => {
    const s = buildOciSpec(input({ privileged: true, readonlyRootfs: true, capDrop: ['CHOWN'] }));
    // Every capability this host grants (root may lack some, e.g. CAP_SYS_RESOURCE).
    assert.deepEqual(s.process.capabilities.bounding, hostCapabilities());
    assert.ok(!mount(s, '/sys')!.options.includes('ro'));
    assert.ok(!mount(s, '/sys/fs/cgroup')!.options.includes('ro'));
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, []);
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  });
});

describe('capabilities (dockerd TweakCapabilities)', () => {
  it('adds and drops, accepting any case and the CAP_ prefix', () => {
    const caps = tweakCapabilities(['net_admin', 'CAP_SYS_PTRACE'], ['chown', 'CAP_KILL'], false);
    assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_SYS_PTRACE'));
    assert.ok(!caps.includes('CAP_CHOWN') && !caps.includes('CAP_KILL'));
    assert.equal(caps.length, 14);
  });

  it('ALL in cap-add gives everything the host grants but the drops; ALL in cap-drop keeps only the adds', () => {
    const all = tweakCapabilities(['ALL'], ['sys_admin'], false);
    assert.deepEqual(all, hostCapabilities().filter((c) => c !== 'CAP_SYS_ADMIN'));
    assert.ok(all.every((c) => ALL_CAPABILITIES.includes(c)));
    assert.deepEqual(tweakCapabilities(['NET_BIND_SERVICE'], ['all'], false), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(tweakCapabilities(['chown'], [], false), DEFAULT_CAPABILITIES, 'adding a default does not duplicate it');
  });

  it('rejects unknown capabilities as a client error', () => {
    assert.throws(() => buildOciSpec(input({ capAdd: ['FOO'] })), (err: unknown) => {
      assert.ok(err instanceof InvalidParameterError);
      assert.equal(err.message, 'unknown capability: "CAP_FOO"');
      return true;
    });
  });
});

describe('device cgroup rules', () => {
  it('parses dockerd syntax and rejects the rest', () => {
    assert.deepEqual(parseDeviceCgroupRule('c 1:3 mr'), { allow: true, type: 'c', major: 1, minor: 3, access: 'mr' });
    assert.deepEqual(parseDeviceCgroupRule('a *:* rwm'), { allow: true, type: 'a', access: 'rwm' });
    for (const bad of ['x 1:3 r', 'c 1 r', 'c 1:3 q', '']) assert.throws(() => parseDeviceCgroupRule(bad), InvalidParameterError);
  });
});
