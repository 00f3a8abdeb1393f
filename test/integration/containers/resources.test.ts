import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';

/** The container's cgroup v1 file on the host (this machine is cgroup v1). */
const cg = (controller: string, id: string, file: string) => readFileSync(`/sys/fs/cgroup/${controller}/berth/${id}/${file}`, 'utf8').trim();

describe('resource limits and privileges at create', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('--memory, --memory-swap, --cpus, --cpu-shares, --cpuset-cpus and --pids-limit reach the cgroup', () => {
    const id = berth
      .ok(['run', '-d', '--memory', '32m', '--memory-swap', '64m', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--pids-limit', '20', 'busybox', 'sleep', '1000'])
      .trim();
    assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
    assert.equal(cg('memory', id, 'memory.memsw.limit_in_bytes').length > 0, true);
    assert.equal(cg('cpu', id, 'cpu.cfs_quota_us'), '50000');
    assert.equal(cg('cpu', id, 'cpu.cfs_period_us'), '100000');
    assert.equal(cg('cpu', id, 'cpu.shares'), '512');
    assert.equal(cg('cpuset', id, 'cpuset.cpus'), '0');
    assert.equal(cg('pids', id, 'pids.max'), '20');
    const hc = JSON.parse(berth.ok(['inspect', id]))[0].HostConfig;
    assert.deepEqual([hc.Memory, hc.NanoCpus, hc.CpuShares, hc.PidsLimit], [32 * 1024 * 1024, 5e8, 512, 20]);
  });

  it('--ulimit, --security-opt no-new-privileges, --device, --shm-size and --init apply', () => {
    assert.equal(berth.ok(['run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']), '1024\n2048\n');
    assert.match(berth.ok(['run', '--rm', '--security-opt', 'no-new-privileges', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']), /NoNewPrivs:\s+1/);
    assert.match(berth.ok(['run', '--rm', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']), /NoNewPrivs:\s+0/);
    assert.equal(berth.ok(['run', '--rm', '--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c', 'test -c /dev/mynull && echo hi > /dev/mynull && echo ok']), 'ok\n');
    assert.match(berth.ok(['run', '--rm', '--shm-size', '32m', 'busybox', 'df', '-k', '/dev/shm']), /\s32768\s/);
    assert.equal(berth.ok(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']).trim(), '/sbin/docker-init -- sh -c cat /proc/1/cmdline | tr "\\0" " "');
  });

  it('--privileged gets the capabilities the host has, with a warning when some are missing', () => {
    const r = berth.docker(['run', '--rm', '--privileged', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    const bits = BigInt(`0x${r.stdout.trim().split(/\s+/)[1]}`).toString(2).replace(/0/g, '').length;
    const hostBits = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`).toString(2).replace(/0/g, '').length;
    assert.equal(bits, hostBits);
  });

  it('docker update changes a running container\'s cgroup and its restart policy', () => {
    const id = berth.ok(['run', '-d', '--memory', '32m', 'busybox', 'sleep', '1000']).trim();
    berth.ok(['update', '--memory', '48m', '--memory-swap', '96m', '--cpus', '0.25', '--cpu-shares', '256', '--pids-limit', '30', '--restart', 'on-failure:3', id]);
    assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(48 * 1024 * 1024));
    assert.equal(cg('cpu', id, 'cpu.cfs_quota_us'), '25000');
    assert.equal(cg('cpu', id, 'cpu.shares'), '256');
    assert.equal(cg('pids', id, 'pids.max'), '30');
    const hc = JSON.parse(berth.ok(['inspect', id]))[0].HostConfig;
    assert.deepEqual([hc.Memory, hc.NanoCpus, hc.PidsLimit, hc.RestartPolicy.Name, hc.RestartPolicy.MaximumRetryCount], [48 * 1024 * 1024, 2.5e8, 30, 'on-failure', 3]);
    const bad = berth.docker(['update', '--memory', '1m', id]);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
    assert.equal(JSON.parse(berth.ok(['inspect', id]))[0].HostConfig.Memory, 48 * 1024 * 1024, 'unchanged after a refusal');
    const rm = berth.ok(['create', '--rm', 'busybox', 'true']).trim();
    assert.match(berth.docker(['update', '--restart', 'always', rm]).stderr, /AutoRemove is enabled/);
  });

  it('refuses limits dockerd refuses', () => {
    const low = berth.docker(['run', '--rm', '--memory', '1m', 'busybox', 'true']);
    assert.notEqual(low.code, 0);
    assert.match(low.stderr, /Minimum memory limit allowed is 6MB/);
    const swap = berth.docker(['run', '--rm', '--memory', '64m', '--memory-swap', '32m', 'busybox', 'true']);
    assert.match(swap.stderr, /Minimum memoryswap limit should be larger than memory limit/);
    const cpus = berth.docker(['run', '--rm', '--cpus', '64', 'busybox', 'true']);
    assert.match(cpus.stderr, /Range of CPUs is from 0.01 to/);
    const dev = berth.docker(['run', '--rm', '--device', '/dev/no-such-device', 'busybox', 'true']);
    assert.match(dev.stderr, /error gathering device information/);
  });
});
