import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';

describe('docker stats', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
    berth.ok(['run', '-d', '--name', 'busy', '--memory', '64m', '--pids-limit', '50', 'busybox', 'sh', '-c', 'while :; do :; done']);
    berth.ok(['run', '-d', '--name', 'netty', 'busybox', 'sleep', '1000']);
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('--no-stream shows CPU %, memory usage/limit, PIDs and net I/O from the cgroup', () => {
    const out = berth.ok(['stats', '--no-stream', '--format', '{{json .}}', 'busy', 'netty']).trim().split('\n').map((l) => JSON.parse(l));
    const busy = out.find((r) => r.Name === 'busy');
    const netty = out.find((r) => r.Name === 'netty');
    // The busy loop's share depends on what else the host runs (test files run side by side):
    // it is clearly above zero and well above a sleeping container's.
    assert.ok(parseFloat(busy.CPUPerc) > 2, `busy loop uses CPU: ${busy.CPUPerc}`);
    assert.ok(parseFloat(netty.CPUPerc) < 2, `sleep does not: ${netty.CPUPerc}`);
    assert.match(busy.MemUsage, / \/ 64MiB$/);
    assert.equal(busy.PIDs, '1');
    assert.match(netty.NetIO, /B \/ .*B$/);
    assert.doesNotMatch(netty.NetIO, /^--/);
  });

  it('the API streams samples with precpu_stats, and stream=false gives one object', async () => {
    const one = await api(berth.socket, 'GET', '/containers/busy/stats?stream=false');
    assert.equal(one.status, 200);
    const s = JSON.parse(one.body);
    assert.equal(s.name, '/busy');
    assert.ok(s.cpu_stats.cpu_usage.total_usage > s.precpu_stats.cpu_usage.total_usage);
    assert.ok(s.cpu_stats.system_cpu_usage > s.precpu_stats.system_cpu_usage);
    assert.ok(s.cpu_stats.online_cpus >= 1);
    assert.equal(s.memory_stats.limit, 64 * 1024 * 1024);
    assert.equal(s.pids_stats.limit, 50);
    const oneShot = JSON.parse((await api(berth.socket, 'GET', '/containers/busy/stats?stream=false&one-shot=true')).body);
    assert.equal(oneShot.precpu_stats.cpu_usage.total_usage, 0);
    assert.equal((await api(berth.socket, 'GET', '/containers/nope/stats?stream=false')).status, 404);
  });

  it('a stopped container reports zeros', async () => {
    berth.ok(['create', '--name', 'stopped', 'busybox', 'true']);
    const s = JSON.parse((await api(berth.socket, 'GET', '/containers/stopped/stats?stream=false')).body);
    assert.equal(s.read, '0001-01-01T00:00:00Z');
    assert.equal(s.cpu_stats.cpu_usage.total_usage, 0);
  });
});
