import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { needsRuntime, startBerth, type Berth } from '../harness';
import { waitFor } from '../wait';
import { criClient, grpcCode, type CriClient } from './cri-client';
import { oomScoreFloor } from '../../../src/cri/oom-score';
import { mountPropagationOf } from '../../../src/host/mountinfo';

/** CRI containers in host-network pods: lifecycle, logs, ExecSync, filters, security, mounts, resources. */
const PAUSE = 'berth.test/pause:containers';
const HOST_NS = { security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } };

describe('CRI containers', () => {
  let berth: Berth;
  let cri: CriClient;
  let logRoot: string;

  const podConfig = (name: string, extra: object = {}) => ({
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    hostname: name,
    log_directory: join(logRoot, name),
    labels: { pod: name },
    annotations: {},
    linux: HOST_NS,
    ...extra,
  });

  const ctrConfig = (name: string, extra: object = {}) => ({
    metadata: { name, attempt: 0 },
    image: { image: 'busybox:latest' },
    log_path: `${name}/0.log`,
    labels: { ctr: name },
    annotations: { 'example.com/a': name },
    linux: HOST_NS,
    ...extra,
  });

  async function runPod(name: string, extra: object = {}) {
    const config = podConfig(name, extra);
    const { pod_sandbox_id: id } = await cri.runtime.RunPodSandbox({ config });
    return { id, config };
  }

  async function createCtr(pod: { id: string; config: object }, name: string, extra: object = {}, c: CriClient = cri) {
    const { container_id } = await c.runtime.CreateContainer({ pod_sandbox_id: pod.id, config: ctrConfig(name, extra), sandbox_config: pod.config });
    return container_id as string;
  }

  async function startCtr(pod: { id: string; config: object }, name: string, extra: object = {}) {
    const id = await createCtr(pod, name, extra);
    await cri.runtime.StartContainer({ container_id: id });
    return id;
  }

  const statusOf = async (id: string) => (await cri.runtime.ContainerStatus({ container_id: id })).status;
  const waitExited = (id: string) => waitFor(async () => ((await statusOf(id)).state === 'CONTAINER_EXITED' ? statusOf(id) : undefined), { what: `container ${id} to exit` });
  const exec = async (id: string, cmd: string[], timeout = 0) => {
    const r = await cri.runtime.ExecSync({ container_id: id, cmd, timeout });
    return { stdout: Buffer.from(r.stdout).toString(), stderr: Buffer.from(r.stderr).toString(), exit_code: r.exit_code as number };
  };
  const sleeper = { command: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'] };

  before(async () => {
    berth = await startBerth({ extraArgs: ['--pod-infra-image', PAUSE] });
    berth.ok(['build', '-q', '-t', PAUSE, '-'], { input: `FROM busybox:latest\nENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]\n`, timeoutMs: 120_000 });
    cri = criClient(berth.criSocket);
    logRoot = join(berth.dir, 'pod-logs');
  });
  after(async () => {
    cri?.close();
    await berth?.cleanup();
  });

  it('creates, starts, execs in, stops and removes a container of a pod, its output in the CRI log at kubelet\'s path', async () => {
    const pod = await runPod('life');
    const id = await createCtr(pod, 'app', { command: ['sh', '-c'], args: ['echo hello out; echo hello err >&2; trap "exit 0" TERM; while :; do sleep 1; done'], envs: [{ key: 'GREETING', value: 'hi there' }], working_dir: '/tmp', devices: [{ host_path: '/dev/zero', container_path: '/dev/myzero', permissions: 'rwm' }] });
    let s = await statusOf(id);
    assert.equal(s.state, 'CONTAINER_CREATED');
    assert.equal(s.metadata.name, 'app');
    assert.equal(s.started_at, '0');
    assert.deepEqual(s.labels, { ctr: 'app' });
    assert.deepEqual(s.annotations, { 'example.com/a': 'app' });
    assert.equal(s.image.image, 'busybox:latest');
    assert.match(s.image_ref, /^sha256:[0-9a-f]{64}$/);
    const logPath = join(logRoot, 'life', 'app', '0.log');
    assert.equal(s.log_path, logPath);
    // A real engine container in the pod's namespaces, named as kubelet's runtimes name it.
    const inspect = JSON.parse(berth.ok(['inspect', id]))[0];
    assert.equal(inspect.Name, '/k8s_app_life_default_uid-life_0');
    assert.equal(inspect.HostConfig.NetworkMode, `container:${pod.id}`);
    assert.equal(inspect.HostConfig.IpcMode, `container:${pod.id}`);
    assert.equal(inspect.HostConfig.PidMode, `container:${pod.id}`);

    await cri.runtime.StartContainer({ container_id: id });
    s = await statusOf(id);
    assert.equal(s.state, 'CONTAINER_RUNNING');
    assert.ok(BigInt(s.started_at) >= BigInt(s.created_at));
    // Starting it again is refused: kubelet makes a new container instead.
    await assert.rejects(cri.runtime.StartContainer({ container_id: id }), (err) => grpcCode(err) === status.FAILED_PRECONDITION);

    const log = await waitFor(() => (existsSync(logPath) && /hello err/.test(readFileSync(logPath, 'utf8')) ? readFileSync(logPath, 'utf8') : undefined), { what: 'the CRI log' });
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F hello out$/m);
    assert.match(log, /^\S+ stderr F hello err$/m);
    // An operator's `docker logs` reads the same file, streams apart.
    const logs = berth.docker(['logs', id]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'hello out\n');
    assert.equal(logs.stderr, 'hello err\n');

    const r = await exec(id, ['sh', '-c', 'echo "$GREETING in $(pwd)"; echo oops >&2; hostname; exit 7']);
    assert.deepEqual(r, { stdout: 'hi there in /tmp\nlife\n', stderr: 'oops\n', exit_code: 7 });
    // The pod's hostname, resolv.conf and hosts are the infra container's.
    const infraDir = join(berth.dataRoot, 'containers', pod.id);
    assert.equal((await exec(id, ['cat', '/etc/resolv.conf'])).stdout, readFileSync(join(infraDir, 'resolv.conf'), 'utf8'));
    assert.equal((await exec(id, ['cat', '/etc/hosts'])).stdout, readFileSync(join(infraDir, 'hosts'), 'utf8'));
    assert.equal((await exec(id, ['sh', '-c', 'head -c 5 /dev/myzero | wc -c'])).stdout.trim(), '5');
    // The pod's processes share one PID namespace: the infra container's process is pid 1.
    assert.match((await exec(id, ['cat', '/proc/1/cmdline'])).stdout, /while :/);
    await assert.rejects(exec(id, ['sleep', '10'], 1), (err) => grpcCode(err) === status.DEADLINE_EXCEEDED);
    // The timed-out process is gone, not left running in the container.
    assert.equal((await exec(id, ['sh', '-c', 'ps -o args | grep "^sleep 10" || true'])).stdout, '');

    const { containers } = await cri.runtime.ListContainers({ filter: { pod_sandbox_id: pod.id } });
    assert.deepEqual(containers.map((c: { id: string }) => c.id), [id]);
    assert.equal(containers[0].pod_sandbox_id, pod.id);
    assert.equal(containers[0].state, 'CONTAINER_RUNNING');

    const verbose = await cri.runtime.ContainerStatus({ container_id: id, verbose: true });
    const info = JSON.parse(verbose.info.info);
    assert.equal(info.sandboxID, pod.id);
    assert.deepEqual(info.runtimeSpec.process.args, ['sh', '-c', info.config.args[0]]);

    await cri.runtime.StopContainer({ container_id: id, timeout: 10 });
    s = await statusOf(id);
    assert.equal(s.state, 'CONTAINER_EXITED');
    assert.equal(s.exit_code, 0);
    assert.equal(s.reason, 'Completed');
    assert.ok(BigInt(s.finished_at) >= BigInt(s.started_at));
    await cri.runtime.StopContainer({ container_id: id, timeout: 10 }); // already stopped: fine
    await assert.rejects(cri.runtime.ReopenContainerLog({ container_id: id }), (err) => grpcCode(err) !== undefined && grpcCode(err) !== status.OK);

    await cri.runtime.RemoveContainer({ container_id: id });
    await cri.runtime.RemoveContainer({ container_id: id }); // unknown: fine
    await assert.rejects(statusOf(id), (err) => grpcCode(err) === status.NOT_FOUND);
    // The log stays for kubelet to remove.
    assert.ok(existsSync(logPath));
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('reports exit codes and reasons, and refuses a container of an unknown pod', async () => {
    const pod = await runPod('exits');
    const ok = await startCtr(pod, 'ok', { command: ['true'] });
    const bad = await startCtr(pod, 'bad', { command: ['sh', '-c', 'exit 3'] });
    const okStatus = await waitExited(ok);
    assert.equal(okStatus.exit_code, 0);
    assert.equal(okStatus.reason, 'Completed');
    const badStatus = await waitExited(bad);
    assert.equal(badStatus.exit_code, 3);
    assert.equal(badStatus.reason, 'Error');
    // A start that fails leaves an exited container, as containerd reports it.
    const broken = await createCtr(pod, 'broken', { command: ['/no/such/binary'] });
    await assert.rejects(cri.runtime.StartContainer({ container_id: broken }));
    const brokenStatus = await statusOf(broken);
    assert.equal(brokenStatus.state, 'CONTAINER_EXITED');
    assert.equal(brokenStatus.reason, 'StartError');
    assert.equal(brokenStatus.exit_code, 128);
    assert.match(brokenStatus.message, /no such binary|no such file|not found/i);
    await assert.rejects(
      cri.runtime.CreateContainer({ pod_sandbox_id: 'f'.repeat(64), config: ctrConfig('orphan'), sandbox_config: pod.config }),
      (err) => grpcCode(err) === status.NOT_FOUND,
    );
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('lists containers by id prefix, state, pod and labels, and RemovePodSandbox removes them', async () => {
    const a = await runPod('filter-a');
    const b = await runPod('filter-b');
    const running = await startCtr(a, 'run', { ...sleeper, labels: { ctr: 'run', tier: 'x' } });
    const created = await createCtr(a, 'made', { labels: { ctr: 'made', tier: 'x' } });
    const other = await startCtr(b, 'other', { ...sleeper, labels: { ctr: 'other', tier: 'x' } });
    const ids = async (filter: object) => (await cri.runtime.ListContainers({ filter })).containers.map((c: { id: string }) => c.id).sort();
    assert.deepEqual(await ids({ label_selector: { tier: 'x' } }), [running, created, other].sort());
    assert.deepEqual(await ids({ pod_sandbox_id: a.id }), [running, created].sort());
    assert.deepEqual(await ids({ pod_sandbox_id: a.id.slice(0, 13) }), [running, created].sort());
    assert.deepEqual(await ids({ state: { state: 'CONTAINER_CREATED' }, label_selector: { tier: 'x' } }), [created]);
    assert.deepEqual(await ids({ state: { state: 'CONTAINER_RUNNING' }, label_selector: { ctr: 'other' } }), [other]);
    assert.deepEqual(await ids({ id: running.slice(0, 12) }), [running]);
    // The infra containers are sandboxes, never containers.
    assert.ok(!(await ids({})).includes(a.id));

    const { stats } = await cri.runtime.ContainerStats({ container_id: running });
    assert.equal(stats.attributes.id, running);
    assert.ok(BigInt(stats.cpu.usage_core_nano_seconds.value) > 0n);
    assert.ok(BigInt(stats.memory.working_set_bytes.value) > 0n);
    assert.ok(stats.writable_layer.fs_id.mountpoint);
    const listed = await cri.runtime.ListContainerStats({ filter: { pod_sandbox_id: b.id } });
    assert.deepEqual(listed.stats.map((x: { attributes: { id: string } }) => x.attributes.id), [other]);
    const pod = (await cri.runtime.PodSandboxStats({ pod_sandbox_id: b.id })).stats;
    assert.equal(pod.attributes.id, b.id);
    assert.equal(pod.attributes.metadata.name, 'filter-b');
    assert.deepEqual(pod.linux.containers.map((x: { attributes: { id: string } }) => x.attributes.id), [other]);
    assert.ok(BigInt(pod.linux.memory.working_set_bytes.value) > 0n);
    // A host-network pod's interfaces are the host's: at least one, with its counters.
    assert.ok(pod.linux.network.interfaces.length > 0);
    assert.ok(pod.linux.network.default_interface.name);
    assert.ok(BigInt(pod.linux.process.process_count.value) > 0n);
    const pods = (await cri.runtime.ListPodSandboxStats({ filter: { label_selector: { pod: 'filter-a' } } })).stats;
    assert.deepEqual(pods.map((x: { attributes: { id: string } }) => x.attributes.id), [a.id]);

    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: a.id });
    assert.deepEqual(await ids({ label_selector: { tier: 'x' } }), [other]);
    for (const id of [running, created]) assert.equal(berth.docker(['inspect', id]).code, 1);
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: b.id });
  });

  it('applies the security context: user, groups, capabilities, read-only rootfs', async () => {
    const pod = await runPod('secure');
    const id = await startCtr(pod, 'locked', {
      ...sleeper,
      linux: {
        security_context: {
          ...HOST_NS.security_context,
          run_as_user: { value: 1000 },
          run_as_group: { value: 2000 },
          supplemental_groups: [3000, 4000],
          readonly_rootfs: true,
          no_new_privs: true,
          capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] },
          seccomp: { profile_type: 'RuntimeDefault' },
          masked_paths: ['/proc/kcore'],
          readonly_paths: ['/proc/sys'],
        },
      },
    });
    const who = await exec(id, ['id']);
    assert.match(who.stdout, /^uid=1000(\(\w+\))? gid=2000 groups=2000,3000,4000$/m);
    const caps = await exec(id, ['sh', '-c', 'grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status']);
    assert.match(caps.stdout, /CapBnd:\s+0000000000000400/); // NET_BIND_SERVICE only
    assert.match(caps.stdout, /NoNewPrivs:\s+1/);
    assert.match(caps.stdout, /Seccomp:\s+2/);
    const write = await exec(id, ['sh', '-c', 'touch /newfile']);
    assert.notEqual(write.exit_code, 0);
    assert.match(write.stderr, /Read-only file system/);

    // Root with one capability dropped cannot do what it grants.
    const root = await startCtr(pod, 'nochown', { ...sleeper, linux: { security_context: { ...HOST_NS.security_context, capabilities: { drop_capabilities: ['CHOWN'] } } } });
    const chown = await exec(root, ['sh', '-c', 'touch /tmp/f && chown 1234 /tmp/f']);
    assert.notEqual(chown.exit_code, 0);
    assert.match(chown.stderr, /Operation not permitted/);
    assert.equal((await exec(root, ['id', '-u'])).stdout, '0\n');
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  // runc: crun 1.8 gives a bind mount a peer group of its own, so rslave never receives the
  // host's mounts (fixed upstream in crun's "pass correct propagation to get_bind_mount").
  it('bind-mounts a host directory with rslave propagation: later host mounts show inside', { skip: needsRuntime('runc') }, async (t) => {
    const shared = join(berth.dir, 'shared-src');
    mkdirSync(join(shared, 'sub'), { recursive: true });
    writeFileSync(join(shared, 'hello.txt'), 'from the host\n');
    // A shared mount of its own, so the test does not depend on the host's / propagation.
    execFileSync('mount', ['--bind', shared, shared]);
    execFileSync('mount', ['--make-shared', shared]);
    t.after(() => {
      for (const p of [join(shared, 'sub'), shared]) {
        try {
          execFileSync('umount', ['-l', p], { stdio: 'ignore' });
        } catch {
          // not mounted
        }
      }
    });
    const config = podConfig('mounts');
    const pod = { id: (await cri.runtime.RunPodSandbox({ config, runtime_handler: 'runc' })).pod_sandbox_id as string, config };
    const id = await startCtr(pod, 'reader', {
      ...sleeper,
      mounts: [
        { container_path: '/data', host_path: shared, readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
        { container_path: '/made', host_path: join(berth.dir, 'made-by-start'), propagation: 'PROPAGATION_PRIVATE' },
      ],
    });
    assert.equal((await exec(id, ['cat', '/data/hello.txt'])).stdout, 'from the host\n');
    assert.notEqual((await exec(id, ['touch', '/data/x'])).exit_code, 0);
    assert.match((await exec(id, ['grep', ' /data ', '/proc/self/mountinfo'])).stdout, /master:\d+/);
    assert.ok(existsSync(join(berth.dir, 'made-by-start')));
    // A source that is neither shared nor slave cannot propagate: refused at create, as containerd.
    const plain = join(berth.dir, 'plain-src');
    mkdirSync(plain);
    const where = await mountPropagationOf(plain);
    if (!where.shared && !where.slave) {
      await assert.rejects(
        createCtr(pod, 'refused', { mounts: [{ container_path: '/p', host_path: plain, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }] }),
        (err) => grpcCode(err) === status.INVALID_ARGUMENT && /is not a shared or slave mount/.test(String((err as Error).message)),
      );
    }
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(shared, 'sub')]);
    writeFileSync(join(shared, 'sub', 'late.txt'), 'mounted later\n');
    await waitFor(async () => (await exec(id, ['cat', '/data/sub/late.txt'])).stdout === 'mounted later\n', { what: 'the later mount inside' });
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('sets Linux resources in the cgroup and updates them', async () => {
    const pod = await runPod('limits');
    const id = await startCtr(pod, 'limited', { ...sleeper, linux: { security_context: HOST_NS.security_context, resources: { cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512, memory_limit_in_bytes: 64 * 1024 * 1024, oom_score_adj: -997, hugepage_limits: [{ page_size: '2MB', limit: 0 }] } } });
    // kubelet's score for critical pods; a daemon without CAP_SYS_RESOURCE gives its own instead.
    // kubelet's zero hugepage limits start on a host without the hugetlb controller too.
    const pid = JSON.parse((await cri.runtime.ContainerStatus({ container_id: id, verbose: true })).info.info).pid;
    const floor = oomScoreFloor();
    assert.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), String(floor !== undefined && floor > -997 ? floor : -997));
    // cgroup v2 (one file each) or v1 (a controller directory each), as the container sees it.
    const read = async (v2: string, v1: string) => (await exec(id, ['sh', '-c', `cat /sys/fs/cgroup/${v2} 2>/dev/null || cat /sys/fs/cgroup/${v1}`])).stdout.trim();
    assert.equal(await read('memory.max', 'memory/memory.limit_in_bytes'), String(64 * 1024 * 1024));
    const cpu = await read('cpu.max', 'cpu/cpu.cfs_quota_us');
    assert.ok(cpu === '50000 100000' || cpu === '50000', cpu);
    const limits = (await statusOf(id)).resources.linux;
    assert.equal(limits.memory_limit_in_bytes, String(64 * 1024 * 1024));
    assert.equal(limits.cpu_quota, '50000');
    assert.equal(limits.cpu_shares, '512');
    await cri.runtime.UpdateContainerResources({ container_id: id, linux: { memory_limit_in_bytes: 128 * 1024 * 1024, cpu_quota: 20000, cpu_period: 100000 } });
    assert.equal((await statusOf(id)).resources.linux.memory_limit_in_bytes, String(128 * 1024 * 1024));
    assert.equal(await read('memory.max', 'memory/memory.limit_in_bytes'), String(128 * 1024 * 1024));
    const cpu2 = await read('cpu.max', 'cpu/cpu.cfs_quota_us');
    assert.ok(cpu2 === '20000 100000' || cpu2 === '20000', cpu2);
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('reopens the log: after kubelet renames it, new lines go to a new file', async () => {
    const pod = await runPod('rotate');
    const id = await startCtr(pod, 'ticker', { command: ['sh', '-c', 'i=0; trap "exit 0" TERM; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done'] });
    const logPath = join(logRoot, 'rotate', 'ticker', '0.log');
    await waitFor(() => existsSync(logPath) && /tick 2/.test(readFileSync(logPath, 'utf8')), { what: 'ticks in the log' });
    renameSync(logPath, `${logPath}.1`);
    await cri.runtime.ReopenContainerLog({ container_id: id });
    const fresh = await waitFor(() => (existsSync(logPath) && /stdout F tick \d+/.test(readFileSync(logPath, 'utf8')) ? readFileSync(logPath, 'utf8') : undefined), { what: 'ticks in the new log' });
    const lastOld = Math.max(...[...readFileSync(`${logPath}.1`, 'utf8').matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
    const firstNew = Number(/tick (\d+)/.exec(fresh)![1]);
    assert.ok(firstNew > lastOld, `${firstNew} > ${lastOld}`);
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('answers the same through runtime.v1alpha2 (seccomp as a profile path)', async () => {
    const old = criClient(berth.criSocket, 'v1alpha2');
    try {
      const config = podConfig('alpha');
      const { pod_sandbox_id } = await old.runtime.RunPodSandbox({ config });
      const pod = { id: pod_sandbox_id, config };
      const id = await createCtr(pod, 'old', { ...sleeper, linux: { security_context: { ...HOST_NS.security_context, seccomp_profile_path: 'runtime/default' } } }, old);
      await old.runtime.StartContainer({ container_id: id });
      const { status: s } = await old.runtime.ContainerStatus({ container_id: id });
      assert.equal(s.state, 'CONTAINER_RUNNING');
      assert.equal(s.metadata.name, 'old');
      const r = await old.runtime.ExecSync({ container_id: id, cmd: ['sh', '-c', 'grep ^Seccomp: /proc/self/status'], timeout: 0 });
      assert.match(Buffer.from(r.stdout).toString(), /Seccomp:\s+2/);
      assert.equal(r.exit_code, 0);
      await old.runtime.StopContainer({ container_id: id, timeout: 5 });
      await old.runtime.RemovePodSandbox({ pod_sandbox_id });
      assert.equal(berth.docker(['inspect', id]).code, 1);
    } finally {
      old.close();
    }
  });

  it('keeps pod containers running across a daemon restart, the CRI view rebuilt from the store', async () => {
    const pod = await runPod('survivor');
    const id = await startCtr(pod, 'steady', { command: ['sh', '-c', 'i=0; trap "exit 0" TERM; while :; do i=$((i+1)); echo beat $i; sleep 0.2; done'] });
    const logPath = join(logRoot, 'survivor', 'steady', '0.log');
    await waitFor(() => existsSync(logPath) && /beat 2/.test(readFileSync(logPath, 'utf8')), { what: 'beats in the log' });
    const before = await statusOf(id);
    cri.close();
    await berth.restart();
    cri = criClient(berth.criSocket);
    const after = await statusOf(id);
    assert.equal(after.state, 'CONTAINER_RUNNING');
    assert.equal(after.started_at, before.started_at);
    assert.equal(after.log_path, logPath);
    assert.deepEqual(after.labels, before.labels);
    const { containers } = await cri.runtime.ListContainers({ filter: { pod_sandbox_id: pod.id } });
    assert.deepEqual(containers.map((c: { id: string }) => c.id), [id]);
    assert.equal((await exec(id, ['echo', 'still here'])).stdout, 'still here\n');
    // The monitor kept writing kubelet's log, and still reopens it when asked.
    const count = () => [...readFileSync(logPath, 'utf8').matchAll(/beat \d+/g)].length;
    const seen = count();
    await waitFor(() => count() > seen, { what: 'new beats after the restart' });
    renameSync(logPath, `${logPath}.1`);
    await cri.runtime.ReopenContainerLog({ container_id: id });
    await waitFor(() => existsSync(logPath) && /stdout F beat \d+/.test(readFileSync(logPath, 'utf8')), { what: 'beats in the reopened log' });
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });
});
