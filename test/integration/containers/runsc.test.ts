/**
 * gVisor's runsc as a Berth runtime, through the stock docker CLI: registered with
 * `--add-runtime runsc=<path>` and, as `gvisor-raw` with `runtimeArgs: ["--net-raw"]` (gVisor
 * drops CAP_NET_RAW otherwise, so no ping), through daemon.json. Skipped as a whole when runsc is
 * not installed or cannot run a container on this host (the reason is runsc's own error).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { apiJson, freePort, installedRuntime, startBerth, type Berth } from '../harness';
import { freeSubnet } from '../network/free-subnet';
import { containerState, httpGet, waitFor, waitForHttp, waitForLog, waitForProcessGone } from '../wait';

const runsc = installedRuntime('runsc');

describe('gVisor (runsc) as a runtime', { skip: runsc ? false : 'runsc is not installed on this host', concurrency: false }, () => {
  let berth: Berth;
  /** Why runsc cannot run here (its own error), found once in `before`. */
  let cannotRun: string | undefined;
  const needsRunsc = (t: TestContext) => {
    if (cannotRun) t.skip(cannotRun);
    return !cannotRun;
  };
  /** A detached runsc container serving its /etc (hostname = short id) over HTTP on `port`. */
  const serve = (name: string, args: string[] = [], port = 8080) =>
    berth.ok(['run', '-d', '--name', name, '--runtime', 'runsc', ...args, 'busybox', 'httpd', '-f', '-p', String(port), '-h', '/etc']).trim();
  const inspect = (name: string) => JSON.parse(berth.ok(['inspect', name]))[0];

  const configDir = mkdtempSync(join(tmpdir(), 'berth-runsc-'));

  before(async () => {
    const daemonJson = join(configDir, 'daemon.json');
    writeFileSync(daemonJson, JSON.stringify({ runtimes: { 'gvisor-raw': { path: runsc, runtimeArgs: ['--net-raw'] } } }));
    berth = await startBerth({ extraArgs: ['--add-runtime', `runsc=${runsc}`, '--config-file', daemonJson] });
    const probe = berth.docker(['run', '--rm', '--runtime', 'runsc', '--network', 'none', 'busybox', 'true'], { timeoutMs: 120_000 });
    if (probe.code !== 0) cannotRun = `runsc cannot run a container on this host: ${probe.stderr.trim()}`;
  });
  after(async () => {
    await berth?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('lists runsc from --add-runtime and gvisor-raw from daemon.json', (t) => {
    if (!needsRunsc(t)) return;
    const info = JSON.parse(berth.ok(['info', '--format', '{{json .Runtimes}}']));
    assert.equal(info.runsc.path, runsc);
    assert.equal(info['gvisor-raw'].path, runsc);
    // Berth's own runsc flags (--allow-flag-override) are not the configuration's.
    assert.deepEqual(info['gvisor-raw'].runtimeArgs, ['--net-raw']);
    assert.equal(info.runsc.runtimeArgs, undefined);
    assert.equal(inspectRuntimeOf(berth, ['--runtime', 'runsc']), 'runsc');
  });

  it('default bridge: the container has its address; host and another runsc container reach it', async (t) => {
    if (!needsRunsc(t)) return;
    const id = serve('web');
    const ip = inspect('web').NetworkSettings.IPAddress as string;
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    // gVisor's own network stack holds the address the namespace had.
    assert.match(berth.ok(['exec', 'web', 'ip', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    assert.equal((await waitForHttp(`http://${ip}:8080/hostname`)).trim(), id.slice(0, 12));
    const viaPeer = berth.docker(['run', '--rm', '--runtime', 'runsc', 'busybox', 'wget', '-qO-', `http://${ip}:8080/hostname`]);
    assert.equal(viaPeer.code, 0, viaPeer.stderr);
    assert.equal(viaPeer.stdout.trim(), id.slice(0, 12));
    berth.ok(['rm', '-f', 'web']);
  });

  it("user network: the embedded DNS answers other containers' names", async (t) => {
    if (!needsRunsc(t)) return;
    berth.ok(['network', 'create', '--subnet', freeSubnet(197), 'gnet']);
    const id = serve('other', ['--network', 'gnet']);
    const ip = inspect('other').NetworkSettings.Networks.gnet.IPAddress as string;
    const gateway = inspect('other').NetworkSettings.Networks.gnet.Gateway as string;
    const look = berth.docker(['run', '--rm', '--runtime', 'runsc', '--network', 'gnet', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; nslookup other; wget -qO- http://other:8080/hostname']);
    assert.equal(look.code, 0, look.stderr);
    // The sandbox keeps its loopback to itself: the DNS server is named by its gateway address.
    assert.match(look.stdout, new RegExp(`^nameserver ${gateway.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(look.stdout, new RegExp(`Name:\\s+other\\nAddress:\\s+${ip.replace(/\./g, '\\.')}`));
    assert.match(look.stdout, new RegExp(`${id.slice(0, 12)}\\n$`));
    const ping = berth.docker(['run', '--rm', '--runtime', 'gvisor-raw', '--network', 'gnet', 'busybox', 'ping', '-c1', 'other']);
    assert.equal(ping.code, 0, ping.stderr);
    assert.match(ping.stdout, new RegExp(`^PING other \\(${ip.replace(/\./g, '\\.')}\\)`));
    assert.match(ping.stdout, /1 packets received/);
    berth.ok(['rm', '-f', 'other']);
    berth.ok(['network', 'rm', 'gnet']);
  });

  it('--network none: a loopback of its own, and nothing else', (t) => {
    if (!needsRunsc(t)) return;
    const script = 'ip -o addr; httpd -p 127.0.0.1:8080 -h /etc; for i in $(seq 100); do wget -qO- http://127.0.0.1:8080/hostname && exit 0; usleep 100000; done; exit 1';
    const r = berth.docker(['run', '--rm', '--runtime', 'runsc', '--network', 'none', '--hostname', 'isolated', 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual([...new Set(lines.slice(0, -1).map((l) => l.split(/\s+/)[1]))], ['lo']);
    assert.equal(lines[lines.length - 1], 'isolated');
  });

  it("--network host: the container listens on the host's loopback", async (t) => {
    if (!needsRunsc(t)) return;
    const port = await freePort();
    berth.ok(['run', '-d', '--name', 'hostnet', '--runtime', 'runsc', '--network', 'host', 'busybox', 'sh', '-c', `echo served-from-host-net > /tmp/f; httpd -f -p 127.0.0.1:${port} -h /tmp`]);
    assert.equal((await waitForHttp(`http://127.0.0.1:${port}/f`)).trim(), 'served-from-host-net');
    berth.ok(['rm', '-f', 'hostnet']);
  });

  it("--network container:x shares x's network without taking x's address away", async (t) => {
    if (!needsRunsc(t)) return;
    // x under the daemon's default runtime (runc or crun): gVisor's own stack would move x's
    // address into the sandbox; runsc's host mode shares it instead (src/runtime/runsc.ts).
    const owner = berth.ok(['run', '-d', '--name', 'netowner', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc']).trim();
    const ip = inspect('netowner').NetworkSettings.IPAddress as string;
    await waitForHttp(`http://${ip}:8080/hostname`);
    const r = berth.docker(['run', '--rm', '--runtime', 'runsc', '--network', 'container:netowner', 'busybox', 'sh', '-c', `ip -o addr show eth0; printf 'GET /hostname HTTP/1.0\r\n\r\n' | nc 127.0.0.1 8080`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    assert.match(r.stdout, new RegExp(`\r\n\r\n${owner.slice(0, 12)}\n$`));
    assert.match(berth.ok(['exec', 'netowner', 'ip', '-o', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    assert.equal((await httpGet(`http://${ip}:8080/hostname`)).trim(), owner.slice(0, 12));
    berth.ok(['rm', '-f', 'netowner']);
  });

  it("published ports: -p 127.0.0.1:X:Y reaches the container from the host's loopback", async (t) => {
    if (!needsRunsc(t)) return;
    const port = await freePort();
    const id = serve('published', ['-p', `127.0.0.1:${port}:8080`]);
    assert.equal((await waitForHttp(`http://127.0.0.1:${port}/hostname`)).trim(), id.slice(0, 12));
    berth.ok(['rm', '-f', 'published']);
  });

  it('exec, logs, stats and rm -f', async (t) => {
    if (!needsRunsc(t)) return;
    const id = berth.ok(['run', '-d', '--name', 'busy', '--runtime', 'runsc', 'busybox', 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; while true; do sleep 1; done']).trim();
    const exec = berth.docker(['exec', 'busy', 'sh', '-c', 'echo from-exec $(cat /etc/hostname); exit 3']);
    assert.equal(exec.code, 3);
    assert.equal(exec.stdout, `from-exec ${id.slice(0, 12)}\n`);
    await waitForLog(berth, 'busy', 'to-stderr');
    const logs = berth.docker(['logs', 'busy']);
    assert.equal(logs.stdout, 'to-stdout\n');
    assert.equal(logs.stderr, 'to-stderr\n');

    // runsc's numbers are the sandbox's (its cgroup holds gVisor's own processes): see docs/runtimes.md.
    const { status, body } = await apiJson(berth.socket, 'GET', `/containers/busy/stats?stream=false`);
    assert.equal(status, 200);
    assert.ok(body.memory_stats.usage > 0, JSON.stringify(body.memory_stats));
    assert.ok(body.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(body.pids_stats.current > 0);
    assert.ok(body.networks?.eth0, JSON.stringify(body.networks));
    const line = berth.ok(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'busy']);
    assert.match(line, /^busy \d+(\.\d+)?[KMG]iB \/ .+ [1-9]\d*\n$/);

    const pid = containerState(berth, 'busy').Pid;
    berth.ok(['rm', '-f', 'busy']);
    assert.equal(berth.docker(['inspect', 'busy']).code, 1);
    await waitForProcessGone(pid);
    const state = join(berth.execRoot, 'runtime-state', 'runsc');
    assert.deepEqual(existsSync(state) ? readdirSync(state).filter((f) => f.includes(id)) : [], []);
  });

  it('stop: the TERM handler decides the exit code; a container that ignores TERM is killed after -t', (t) => {
    if (!needsRunsc(t)) return;
    berth.ok(['run', '-d', '--name', 'polite', '--runtime', 'runsc', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; while true; do sleep 1; done']);
    berth.ok(['stop', 'polite']);
    assert.equal(containerState(berth, 'polite').ExitCode, 7);
    berth.ok(['run', '-d', '--name', 'deaf', '--runtime', 'runsc', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 1; done']);
    const started = Date.now();
    berth.ok(['stop', '-t', '1', 'deaf']);
    assert.ok(Date.now() - started >= 1000, 'stopped before the timeout');
    assert.equal(containerState(berth, 'deaf').ExitCode, 137);
    berth.ok(['rm', 'polite', 'deaf']);
  });

  it('pause and unpause work; update is refused with runsc\'s reason', (t) => {
    if (!needsRunsc(t)) return;
    berth.ok(['run', '-d', '--name', 'frozen', '--runtime', 'runsc', 'busybox', 'sleep', '300']);
    berth.ok(['pause', 'frozen']);
    assert.equal(containerState(berth, 'frozen').Status, 'paused');
    berth.ok(['unpause', 'frozen']);
    assert.equal(containerState(berth, 'frozen').Status, 'running');
    const update = berth.docker(['update', '--memory', '64m', 'frozen']);
    assert.notEqual(update.code, 0);
    assert.match(update.stderr, /runsc does not implement "update"/);
    berth.ok(['rm', '-f', 'frozen']);
  });

  it('daemon.json alone: "runtimes": {"runsc": {"path": ...}} runs containers on the bridge', async (t) => {
    if (!needsRunsc(t)) return;
    const daemonJson = join(configDir, 'only-runsc.json');
    writeFileSync(daemonJson, JSON.stringify({ runtimes: { runsc: { path: runsc } } }));
    const other = await startBerth({ extraArgs: ['--config-file', daemonJson] });
    try {
      const r = other.docker(['run', '--rm', '--runtime', 'runsc', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /eth0\s+inet \d+\.\d+\.\d+\.\d+\/\d+/);
    } finally {
      await other.cleanup();
    }
  });

  it('containers keep running across a daemon restart; exec and stop still work', async (t) => {
    if (!needsRunsc(t)) return;
    const port = await freePort();
    serve('survivor', ['-p', `127.0.0.1:${port}:8080`]);
    berth.ok(['run', '-d', '--name', 'stoppable', '--runtime', 'runsc', 'busybox', 'sh', '-c', 'trap "exit 9" TERM; while true; do sleep 1; done']);
    const pid = containerState(berth, 'survivor').Pid;
    await berth.restart();
    assert.equal(containerState(berth, 'survivor').Running, true);
    assert.equal(containerState(berth, 'survivor').Pid, pid);
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('runsc'), 'the sandbox outlived the daemon');
    assert.equal(berth.ok(['exec', 'survivor', 'echo', 'after-restart']), 'after-restart\n');
    assert.ok((await httpGet(`http://127.0.0.1:${port}/hostname`)).trim().length === 12);
    berth.ok(['stop', 'stoppable']);
    assert.equal(containerState(berth, 'stoppable').ExitCode, 9);
    berth.ok(['rm', '-f', 'survivor', 'stoppable']);
    await waitFor(() => berth.ok(['ps', '-aq']) === '', { what: 'no containers left' });
  });
});

/** The runtime inspect reports for a fresh container created with `args`. */
function inspectRuntimeOf(berth: Berth, args: string[]): string {
  const id = berth.ok(['create', ...args, 'busybox', 'true']).trim();
  const runtime = JSON.parse(berth.ok(['inspect', id]))[0].HostConfig.Runtime as string;
  berth.ok(['rm', id]);
  return runtime;
}
