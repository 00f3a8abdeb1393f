/**
 * The built-in runtime's plan compiler: specs as Berth generates them (buildOciSpec) in, the
 * records the C executor follows out, on the cgroup layouts Berth meets (v1 with cpu and cpuacct
 * apart or co-mounted, hybrid, v2).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildOciSpec, DEFAULT_CAPABILITIES, type SpecInput } from '../../../src/engine/containers/oci-spec';
import { cgroupHierarchies, detectCgroupHost, type CgroupHost } from '../../../src/runtime/builtin/cgroup-host';
import { v2Swap } from '../../../src/runtime/builtin/cgroup-plan';
import { MS } from '../../../src/runtime/builtin/linux-constants';
import { parseMountOptions } from '../../../src/runtime/builtin/mount-options';
import { compileBundlePlan, compileProcessPlan, type PlanHost } from '../../../src/runtime/builtin/plan-compiler';
import { PlanError } from '../../../src/runtime/builtin/plan-error';
import { PlanWriter } from '../../../src/runtime/builtin/plan-format';
import { capabilityMask } from '../../../src/runtime/builtin/process-plan';
import type { OciRuntimeSpec } from '../../../src/runtime/builtin/spec-types';
import { parseMountinfo } from '../../../src/host/mountinfo';

const run = promisify(execFile);

/** The records of a plan, header checked, fields unescaped. */
function records(text: string): string[][] {
  const lines = text.split('\n');
  assert.equal(lines[0], 'berth-plan\t1');
  assert.equal(lines.at(-1), '', 'ends in a newline');
  return lines.slice(1, -1).map((l) => l.split('\t').map((f) => f.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c))));
}
const of = (recs: string[][], key: string) => recs.filter((r) => r[0] === key).map((r) => r.slice(1));

const V1_MOUNTINFO = [
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
  '36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
  '38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
].join('\n');

const v1Host = (): CgroupHost => ({
  layout: 'v1',
  hierarchies: cgroupHierarchies(parseMountinfo(V1_MOUNTINFO)),
  cpusetCpus: '0-1',
  cpusetMems: '0',
  swapAccounting: true,
  controllers: [],
});
const comountedHost = (): CgroupHost => ({
  ...v1Host(),
  hierarchies: [{ mountPoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] }, { mountPoint: '/sys/fs/cgroup/memory', controllers: ['memory'] }],
});
const hybridHost = (): CgroupHost => ({ ...v1Host(), layout: 'hybrid', unified: '/sys/fs/cgroup/unified' });
const v2Host = (): CgroupHost => ({ layout: 'v2', hierarchies: [], unified: '/sys/fs/cgroup', swapAccounting: false, controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] });

let rootfs: string;
function berthSpec(opts: Partial<SpecInput> = {}): OciRuntimeSpec {
  return buildOciSpec({
    id: 'c1',
    rootfs,
    readonlyRootfs: false,
    args: ['sh', '-c', 'echo hi'],
    env: ['PATH=/usr/bin:/bin', 'HOSTNAME=c1'],
    cwd: '/',
    user: { uid: 1000, gid: 1000, additionalGids: [1000, 27] },
    tty: false,
    hostname: 'c1',
    privileged: false,
    capAdd: [],
    capDrop: [],
    shmSize: 64 * 1024 * 1024,
    extraMounts: [{ destination: '/etc/hosts', source: '/var/lib/berth/containers/c1/hosts', type: 'bind', options: ['rbind', 'rprivate'] }],
    netnsPath: '/run/netns/c1',
    cgroupsPath: '/berth/c1',
    cgroupVersion: 1,
    ...opts,
  }) as OciRuntimeSpec;
}
const compile = (spec: OciRuntimeSpec, host: CgroupHost = v1Host(), extra: Partial<PlanHost> = {}) =>
  records(compileBundlePlan(spec, '/bundles/c1', { cgroup: host, ...extra }).plan);

describe('builtin runtime plan compiler', () => {
  before(async () => {
    rootfs = await mkdtemp(join(tmpdir(), 'berth-plan-rootfs-'));
    await mkdir(join(rootfs, 'etc'));
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  });
  after(() => rm(rootfs, { recursive: true, force: true }));

  it('escapes backslash, TAB and newline in fields and refuses fractions', () => {
    const text = new PlanWriter().add('env', 'A=x\ty\nz\\w').add('empty', '', '').text();
    assert.equal(text, 'berth-plan\t1\nenv\tA=x\\ty\\nz\\\\w\nempty\t\t\n');
    assert.deepEqual(records(text), [['env', 'A=x\ty\nz\\w'], ['empty', '', '']]);
    assert.throws(() => new PlanWriter().add('user', 1.5), PlanError);
  });

  it("turns mount options into flags with runc's table; the rest is the filesystem's data", () => {
    assert.deepEqual(parseMountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k']), { flags: MS.NOSUID | MS.STRICTATIME, propagation: 0, data: 'mode=755,size=65536k' });
    assert.deepEqual(parseMountOptions(['rbind', 'rprivate', 'ro']), { flags: MS.BIND | MS.REC | MS.RDONLY, propagation: MS.PRIVATE | MS.REC, data: '' });
    assert.equal(parseMountOptions(['ro', 'rw']).flags, 0, 'rw clears ro');
    assert.equal(parseMountOptions(['nodev', 'dev', 'noexec', 'exec', 'nosuid', 'suid', 'sync', 'async', 'mand', 'nomand']).flags, 0);
    assert.equal(parseMountOptions(['noatime', 'nodiratime', 'relatime', 'dirsync', 'remount']).flags, MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.DIRSYNC | MS.REMOUNT);
    assert.equal(parseMountOptions(['atime', 'noatime', 'diratime']).flags, MS.NOATIME);
    assert.equal(parseMountOptions(['relatime', 'norelatime', 'strictatime', 'nostrictatime']).flags, 0);
    assert.equal(parseMountOptions(['shared', 'rslave']).propagation, MS.SLAVE | MS.REC, 'the last propagation option wins');
    assert.equal(parseMountOptions(['runbindable']).propagation, MS.UNBINDABLE | MS.REC);
    assert.equal(parseMountOptions(['toString']).data, 'toString', 'no prototype lookups');
  });

  it('finds the v1 hierarchies of this host layout, cpu and cpuacct apart', () => {
    const h = cgroupHierarchies(parseMountinfo(V1_MOUNTINFO));
    assert.deepEqual(h.map((x) => x.controllers), [['cpu'], ['cpuacct'], ['cpuset'], ['memory'], ['devices'], ['freezer'], ['pids'], ['name=systemd']]);
    const live = detectCgroupHost();
    assert.ok(['v1', 'v2', 'hybrid'].includes(live.layout));
  });

  it("compiles Berth's default container on cgroup v1", () => {
    const recs = compile(berthSpec());
    assert.deepEqual(of(recs, 'rootfs'), [[rootfs]]);
    assert.deepEqual(of(recs, 'readonly-rootfs'), [['0']]);
    assert.deepEqual(of(recs, 'rootfs-propagation'), [[String(MS.SLAVE | MS.REC)]]);
    assert.deepEqual(of(recs, 'namespace'), [['mount', ''], ['network', '/run/netns/c1'], ['uts', ''], ['pid', ''], ['ipc', '']]);
    assert.deepEqual(of(recs, 'hostname'), [['c1']]);
    assert.deepEqual(of(recs, 'cgroup').map((r) => r[0]), ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'pids', 'systemd'].map((c) => `/sys/fs/cgroup/${c}/berth/c1`));
    assert.deepEqual(of(recs, 'freezer'), [['/sys/fs/cgroup/freezer/berth/c1/freezer.state']]);
    const writes = of(recs, 'cgroup-write');
    // A new cpuset cgroup gets the root's cpus and mems at each level the mkdir creates.
    assert.deepEqual(writes.filter((w) => w[1].startsWith('cpuset.')), [
      ['/sys/fs/cgroup/cpuset/berth', 'cpuset.cpus', '0-1'],
      ['/sys/fs/cgroup/cpuset/berth', 'cpuset.mems', '0'],
      ['/sys/fs/cgroup/cpuset/berth/c1', 'cpuset.cpus', '0-1'],
      ['/sys/fs/cgroup/cpuset/berth/c1', 'cpuset.mems', '0'],
    ]);
    const devices = writes.filter((w) => w[0] === '/sys/fs/cgroup/devices/berth/c1').map((w) => `${w[1]} ${w[2]}`);
    assert.equal(devices[0], 'devices.deny a', 'everything denied first');
    assert.ok(devices.includes('devices.deny c 10:229 rwm'), '/dev/fuse stays denied');
    assert.ok(devices.includes('devices.allow c 136:* rwm'), "runc's defaults follow: ptys");
    assert.ok(devices.includes('devices.allow c 5:2 rwm'), '/dev/ptmx');
    assert.ok(devices.indexOf('devices.allow c 136:* rwm') > devices.indexOf('devices.deny c 10:229 rwm'));

    const mounts = of(recs, 'mount');
    const byDest = new Map(mounts.map((m) => [m[0], m]));
    assert.deepEqual(byDest.get('/proc'), ['/proc', 'proc', 'proc', String(MS.NOSUID | MS.NOEXEC | MS.NODEV), '0', '']);
    assert.deepEqual(byDest.get('/dev'), ['/dev', 'tmpfs', 'tmpfs', String(MS.NOSUID | MS.STRICTATIME), '0', 'mode=755,size=65536k']);
    assert.deepEqual(byDest.get('/sys/fs/cgroup'), ['/sys/fs/cgroup', 'tmpfs', 'tmpfs', String(MS.NOSUID | MS.NODEV | MS.NOEXEC), '0', 'mode=755']);
    const ro = MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID | MS.NOEXEC | MS.NODEV;
    assert.deepEqual(byDest.get('/sys/fs/cgroup/cpuacct'), ['/sys/fs/cgroup/cpuacct', '/sys/fs/cgroup/cpuacct/berth/c1', 'bind', String(ro), '0', '']);
    assert.deepEqual(byDest.get('/sys/fs/cgroup/systemd'), ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/systemd/berth/c1', 'bind', String(ro), '0', '']);
    assert.deepEqual(byDest.get('/etc/hosts'), ['/etc/hosts', '/var/lib/berth/containers/c1/hosts', 'bind', String(MS.BIND | MS.REC), String(MS.PRIVATE | MS.REC), '']);
    assert.ok(mounts.findIndex((m) => m[0] === '/sys/fs/cgroup') < mounts.findIndex((m) => m[0] === '/sys/fs/cgroup/cpu'));

    assert.deepEqual(of(recs, 'device').map((d) => d.join(' ')), [
      '/dev/null c 1 3 438 0 0', '/dev/zero c 1 5 438 0 0', '/dev/full c 1 7 438 0 0',
      '/dev/tty c 5 0 438 0 0', '/dev/urandom c 1 9 438 0 0', '/dev/random c 1 8 438 0 0',
    ]);
    const links = of(recs, 'symlink');
    assert.deepEqual(links.slice(0, 5), [['pts/ptmx', '/dev/ptmx'], ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr']]);
    assert.ok(of(recs, 'masked').some((m) => m[0] === '/proc/kcore'));
    assert.ok(of(recs, 'readonly').some((m) => m[0] === '/proc/sys'));
    assert.deepEqual(of(recs, 'sysctl'), [['net/ipv4/ip_unprivileged_port_start', '0'], ['net/ipv4/ping_group_range', '0 2147483647']]);

    assert.deepEqual(of(recs, 'terminal'), [['0']]);
    assert.deepEqual(of(recs, 'arg'), [['sh'], ['-c'], ['echo hi']]);
    assert.deepEqual(of(recs, 'env'), [['PATH=/usr/bin:/bin'], ['HOSTNAME=c1'], ['HOME=/home/app']], 'HOME from the image');
    assert.deepEqual(of(recs, 'cwd'), [['/']]);
    assert.deepEqual(of(recs, 'user'), [['1000', '1000', '18']], 'umask 0022 by default');
    assert.deepEqual(of(recs, 'additional-gid'), [['1000'], ['27']]);
    // CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5, SETGID 6, SETUID 7, SETPCAP 8,
    // NET_BIND_SERVICE 10, NET_RAW 13, SYS_CHROOT 18, MKNOD 27, AUDIT_WRITE 29, SETFCAP 31.
    const expected = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31].reduce((m, b) => m | (1n << BigInt(b)), 0n);
    assert.equal(capabilityMask(DEFAULT_CAPABILITIES), expected);
    assert.deepEqual(of(recs, 'caps'), [[String(expected), String(expected), '0', String(expected), '0']]);
    assert.deepEqual(of(recs, 'no-new-privileges'), [['0']]);
    assert.deepEqual(of(recs, 'oom-score-adj'), [['0']]);
    assert.deepEqual(of(recs, 'seccomp'), []);
  });

  it('writes memory, swap, CPU and PIDs limits the way runc does on v1', () => {
    const recs = compile(berthSpec({ resources: { memory: 64 << 20, memorySwap: 128 << 20, cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, cpusetCpus: '1', pidsLimit: 20 } }));
    const w = of(recs, 'cgroup-write').filter((x) => !x[1].startsWith('devices.')).map((x) => x.join(' '));
    assert.deepEqual(w, [
      '/sys/fs/cgroup/cpuset/berth cpuset.cpus 0-1',
      '/sys/fs/cgroup/cpuset/berth cpuset.mems 0',
      '/sys/fs/cgroup/cpuset/berth/c1 cpuset.cpus 1',
      '/sys/fs/cgroup/cpuset/berth/c1 cpuset.mems 0',
      `/sys/fs/cgroup/memory/berth/c1 memory.limit_in_bytes ${64 << 20}`,
      `/sys/fs/cgroup/memory/berth/c1 memory.memsw.limit_in_bytes ${128 << 20}`,
      '/sys/fs/cgroup/cpu/berth/c1 cpu.shares 512',
      '/sys/fs/cgroup/cpu/berth/c1 cpu.cfs_period_us 100000',
      '/sys/fs/cgroup/cpu/berth/c1 cpu.cfs_quota_us 50000',
      '/sys/fs/cgroup/pids/berth/c1 pids.max 20',
    ]);
    const unlimited = of(compile(berthSpec({ resources: { pidsLimit: -1, memory: 64 << 20, memorySwap: -1 } })), 'cgroup-write').map((x) => x.slice(1).join(' '));
    assert.ok(unlimited.includes('pids.max max'));
    assert.ok(unlimited.includes('memory.memsw.limit_in_bytes -1'));
    const noSwapAccounting = of(compile(berthSpec({ resources: { memory: 64 << 20, memorySwap: 128 << 20 } }), { ...v1Host(), swapAccounting: false }), 'cgroup-write');
    assert.ok(!noSwapAccounting.some((x) => x[1].startsWith('memory.memsw')), 'no memsw file, nothing written (as runc)');
  });

  it('binds a co-mounted hierarchy under its own name and under each controller', () => {
    const recs = compile(berthSpec({ resources: { cpuShares: 256 } }), comountedHost());
    assert.deepEqual(of(recs, 'cgroup').map((r) => r[0]), ['/sys/fs/cgroup/cpu,cpuacct/berth/c1', '/sys/fs/cgroup/memory/berth/c1']);
    const binds = of(recs, 'mount').filter((m) => m[0].startsWith('/sys/fs/cgroup/')).map((m) => `${m[0]} ${m[1]}`);
    assert.deepEqual(binds, [
      '/sys/fs/cgroup/cpu,cpuacct /sys/fs/cgroup/cpu,cpuacct/berth/c1',
      '/sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct/berth/c1',
      '/sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct/berth/c1',
      '/sys/fs/cgroup/memory /sys/fs/cgroup/memory/berth/c1',
    ]);
    assert.ok(of(recs, 'cgroup-write').some((w) => w.join(' ') === '/sys/fs/cgroup/cpu,cpuacct/berth/c1 cpu.shares 256'));
    assert.deepEqual(of(recs, 'freezer'), [], 'no freezer hierarchy, no freezer record');
  });

  it('joins the unified hierarchy too on a hybrid host, as runc does; resources stay on v1', () => {
    const recs = compile(berthSpec({ resources: { pidsLimit: 5 } }), hybridHost());
    assert.equal(of(recs, 'cgroup').at(-1)![0], '/sys/fs/cgroup/unified/berth/c1');
    assert.ok(!of(recs, 'cgroup-write').some((w) => w[0].startsWith('/sys/fs/cgroup/unified')));
    assert.ok(!of(recs, 'mount').some((m) => m[0] === '/sys/fs/cgroup/unified'));
  });

  it("uses cgroup v2's files and runc's conversions on v2", () => {
    const recs = compile(berthSpec({ cgroupVersion: 2, resources: { memory: 64 << 20, memorySwap: 96 << 20, cpuShares: 1024, cpuQuota: 50000, cpuPeriod: 100000, pidsLimit: 9 } }), v2Host());
    assert.deepEqual(of(recs, 'cgroup'), [['/sys/fs/cgroup/berth/c1']]);
    assert.deepEqual(of(recs, 'freezer'), [['/sys/fs/cgroup/berth/c1/cgroup.freeze']]);
    assert.ok(of(recs, 'namespace').some((n) => n[0] === 'cgroup'));
    const w = of(recs, 'cgroup-write').map((x) => x.join(' '));
    assert.deepEqual(w.filter((x) => x.includes('subtree_control')).slice(0, 2), ['/sys/fs/cgroup cgroup.subtree_control +cpu', '/sys/fs/cgroup cgroup.subtree_control +cpuset']);
    assert.ok(w.includes('/sys/fs/cgroup/berth cgroup.subtree_control +memory'));
    assert.ok(!w.some((x) => x.startsWith('/sys/fs/cgroup/berth/c1 cgroup.subtree_control')), 'the leaf enables nothing');
    const leaf = w.filter((x) => x.startsWith('/sys/fs/cgroup/berth/c1 ')).map((x) => x.slice('/sys/fs/cgroup/berth/c1 '.length));
    assert.deepEqual(leaf, [`memory.max ${64 << 20}`, `memory.swap.max ${32 << 20}`, 'cpu.weight 39', 'cpu.max 50000 100000', 'pids.max 9']);
    assert.deepEqual(of(recs, 'mount').find((m) => m[0] === '/sys/fs/cgroup'), ['/sys/fs/cgroup', 'cgroup', 'cgroup2', String(MS.RDONLY | MS.NOSUID | MS.NOEXEC | MS.NODEV), '0', '']);
    assert.equal(v2Swap(-1, 100), 'max');
    assert.equal(v2Swap(0, 100), undefined);
    assert.throws(() => v2Swap(50, 100), PlanError);
  });

  it('gives a privileged container every device and no masked or read-only paths', () => {
    const recs = compile(berthSpec({ privileged: true }));
    const devices = of(recs, 'cgroup-write').filter((w) => w[1].startsWith('devices.')).map((w) => `${w[1]} ${w[2]}`);
    assert.equal(devices[0], 'devices.allow a');
    assert.deepEqual(of(recs, 'masked'), []);
    assert.deepEqual(of(recs, 'readonly'), []);
    const sys = of(recs, 'mount').find((m) => m[0] === '/sys/fs/cgroup/memory')!;
    assert.equal(Number(sys[3]) & MS.RDONLY, 0, 'cgroups writable');
  });

  it('read-only rootfs, relative paths, user devices, rlimits, tty and hooks', () => {
    const spec = berthSpec({
      readonlyRootfs: true,
      tty: true,
      consoleSize: { height: 40, width: 120 },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }, { type: 'RLIMIT_CORE', soft: -1, hard: 2 ** 64 }],
      noNewPrivileges: true,
      devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0, access: 'rwm' }],
      extraMounts: [{ destination: '/data/', source: 'vol', type: 'bind', options: ['rbind', 'ro'] }],
    });
    spec.root = { path: 'rootfs', readonly: true };
    spec.domainname = 'example.org';
    spec.hooks = { prestart: [{ path: '/usr/bin/hook', args: ['hook', 'x\ty'], env: ['A=1'], timeout: 5 }], poststop: [{ path: '/bin/true' }] };
    const recs = compile(spec);
    assert.deepEqual(of(recs, 'rootfs'), [['/bundles/c1/rootfs']]);
    assert.deepEqual(of(recs, 'readonly-rootfs'), [['1']]);
    assert.deepEqual(of(recs, 'domainname'), [['example.org']]);
    assert.deepEqual(of(recs, 'mount').find((m) => m[0] === '/data'), ['/data', '/bundles/c1/vol', 'bind', String(MS.BIND | MS.REC | MS.RDONLY), '0', '']);
    assert.deepEqual(of(recs, 'device')[0], ['/dev/fuse', 'c', '10', '229', '384', '0', '0']);
    assert.deepEqual(of(recs, 'rlimit'), [['7', '1024', '2048'], ['4', '18446744073709551615', '18446744073709551615']]);
    assert.deepEqual(of(recs, 'terminal'), [['1']]);
    assert.deepEqual(of(recs, 'console-size'), [['40', '120']]);
    assert.deepEqual(of(recs, 'no-new-privileges'), [['1']]);
    assert.deepEqual(of(recs, 'hook'), [['prestart', '5', '/usr/bin/hook', '2', 'hook', 'x\ty', '1', 'A=1'], ['poststop', '0', '/bin/true', '1', '/bin/true', '0']]);
    const proc = of(recs, 'mount').find((m) => m[0] === '/sys/fs/cgroup/pids')!;
    assert.ok(Number(proc[3]) & MS.RDONLY);
  });

  it('refuses what it cannot carry out, with a reason', () => {
    const refuses = (mutate: (s: OciRuntimeSpec) => void, pattern: RegExp, host?: Partial<PlanHost>) => {
      const s = berthSpec();
      mutate(s);
      assert.throws(() => compile(s, v1Host(), host), (err: unknown) => err instanceof PlanError && pattern.test(err.message));
    };
    refuses((s) => s.process!.capabilities!.bounding!.push('CAP_NOPE'), /unknown capability "CAP_NOPE"/);
    refuses((s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]), /unknown rlimit type/);
    refuses((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO' }), /seccomp=unconfined/);
    refuses((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }), /seccomp notify/, { compileSeccomp: () => ({ program: Buffer.alloc(8), flags: 0 }) });
    refuses((s) => (s.process!.apparmorProfile = 'docker-default'), /AppArmor/);
    refuses((s) => (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'), /SELinux/);
    refuses((s) => (s.linux!.personality = { domain: 'LINUX32' }), /personality/);
    refuses((s) => (s.linux!.intelRdt = { closID: 'x' }), /intelRdt/);
    refuses((s) => s.linux!.namespaces!.push({ type: 'user' }), /uidMappings/);
    refuses((s) => s.linux!.namespaces!.push({ type: 'bogus' }), /unknown namespace/);
    refuses((s) => (s.linux!.resources!.unified = { 'memory.high': '1' }), /cgroup v2/);
    refuses((s) => (s.process!.args = []), /args/);
  });

  it('compiles a seccomp profile through the seccomp compiler into berth-seccomp.bpf', () => {
    const spec = berthSpec();
    spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] };
    const program = Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
    const out = compileBundlePlan(spec, '/bundles/c1', { cgroup: v1Host(), compileSeccomp: () => ({ program, flags: 2 }) });
    assert.equal(out.seccomp, program);
    assert.deepEqual(of(records(out.plan), 'seccomp'), [['/bundles/c1/berth-seccomp.bpf', '2']]);
  });

  it("compiles an exec's process, with HOME from the container when it has none", () => {
    const recs = records(compileProcessPlan({ args: ['id'], env: ['PATH=/bin'], cwd: '/tmp', user: { uid: 0, gid: 0 }, terminal: false, capabilities: { bounding: ['CAP_KILL'] } }, rootfs));
    assert.deepEqual(recs, [
      ['terminal', '0'], ['arg', 'id'], ['env', 'PATH=/bin'], ['env', 'HOME=/root'], ['cwd', '/tmp'], ['user', '0', '0', '18'],
      ['caps', String(1n << 5n), '0', '0', '0', '0'], ['no-new-privileges', '0'],
    ]);
    assert.ok(!records(compileProcessPlan({ args: ['id'], env: ['HOME=/x'] }, rootfs)).some((r) => r[1] === 'HOME=/root'));
  });

  it('compile-cli writes the plan files of a bundle and of a process, or says why not', async () => {
    const cli = join(__dirname, '../../../src/runtime/builtin/compile-cli.js');
    const bundle = await mkdtemp(join(tmpdir(), 'berth-plan-bundle-'));
    try {
      await writeFile(join(bundle, 'config.json'), JSON.stringify(berthSpec()));
      await run(process.execPath, [cli, 'bundle', bundle]);
      const plan = records(await readFile(join(bundle, 'berth-plan'), 'utf8'));
      assert.deepEqual(of(plan, 'rootfs'), [[rootfs]]);
      assert.deepEqual(of(plan, 'seccomp'), []);
      const confined = berthSpec();
      confined.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }] };
      await writeFile(join(bundle, 'config.json'), JSON.stringify(confined));
      await run(process.execPath, [cli, 'bundle', bundle]);
      assert.deepEqual(of(records(await readFile(join(bundle, 'berth-plan'), 'utf8')), 'seccomp'), [[join(bundle, 'berth-seccomp.bpf'), '0']]);
      const program = await readFile(join(bundle, 'berth-seccomp.bpf'));
      assert.ok(program.length > 0 && program.length % 8 === 0, 'struct sock_filter[]');
      await writeFile(join(bundle, 'process.json'), JSON.stringify({ args: ['true'], cwd: '/' }));
      await run(process.execPath, [cli, 'process', join(bundle, 'process.json')]);
      assert.deepEqual(of(records(await readFile(join(bundle, 'process.json.berth-plan'), 'utf8')), 'arg'), [['true']]);
      const bad = berthSpec();
      bad.process!.capabilities!.bounding!.push('CAP_NOPE');
      await writeFile(join(bundle, 'config.json'), JSON.stringify(bad));
      await assert.rejects(run(process.execPath, [cli, 'bundle', bundle]), (err: { code: number; stderr: string }) => err.code === 1 && err.stderr === 'unknown capability "CAP_NOPE"\n');
      await assert.rejects(run(process.execPath, [cli, 'nope']), (err: { code: number; stderr: string }) => err.code === 1 && /usage/.test(err.stderr));
    } finally {
      await rm(bundle, { recursive: true, force: true });
    }
  });
});
