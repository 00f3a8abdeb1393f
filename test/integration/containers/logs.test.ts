import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';
import { waitFor, waitForLog } from '../wait';

/** An RFC3339Nano UTC time with its fraction padded, so that strings compare as times. */
const sortable = (t: string) => t.replace(/(?:\.(\d+))?Z$/, (_, f: string | undefined) => `.${(f ?? '').padEnd(9, '0')}Z`);

describe('docker logs: options and log drivers', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('--log-opt max-size/max-file rotates into at most max-file files, and docker logs reads across them', async () => {
    // 3000 lines of ~100 bytes (~300 KB) with max-size 50k and 3 files: older lines are dropped.
    const id = berth
      .ok(['run', '-d', '--log-opt', 'max-size=50k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
        'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); printf "line %05d %090d\\n" $i 0; if [ $((i % 100)) -eq 0 ]; then sleep 0.05; fi; done'])
      .trim();
    berth.ok(['wait', id]);
    const logPath = JSON.parse(berth.ok(['inspect', id]))[0].LogPath as string;
    assert.ok(existsSync(`${logPath}.1`), 'rotated once at least');
    assert.ok(!existsSync(`${logPath}.3`), 'never more than max-file files');
    const lines = berth.ok(['logs', id]).trim().split('\n');
    assert.ok(lines.length < 3000, `old lines dropped (${lines.length} left)`);
    assert.match(lines.at(-1)!, /^line 03000 /);
    // Consecutive: nothing lost inside the kept window.
    const nums = lines.map((l) => Number(l.slice(5, 10)));
    assert.ok(nums.every((n, i) => i === 0 || n === nums[i - 1] + 1), 'no gaps across rotated files');
    assert.deepEqual(berth.ok(['logs', '--tail', '3', id]).trim().split('\n').map((l) => l.slice(0, 10)), ['line 02998', 'line 02999', 'line 03000']);
    const total = [logPath, `${logPath}.1`, `${logPath}.2`].filter(existsSync).reduce((sum, f) => sum + readFileSync(f).length, 0);
    assert.ok(total < 3 * 50 * 1024 * 2, `bounded on disk (${total} bytes)`);
  });

  it('--log-driver none keeps no log; docker logs says so', () => {
    const id = berth.ok(['run', '-d', '--log-driver', 'none', 'busybox', 'echo', 'hidden']).trim();
    berth.ok(['wait', id]);
    const r = berth.docker(['logs', id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /configured logging driver does not support reading/);
    assert.equal(existsSync(join(berth.dataRoot, 'containers', id, `${id}-json.log`)), false);
  });

  it('checks driver and option names at create and option values at start, with dockerd\'s statuses and words', async () => {
    const refusedAtCreate: Array<[string[], string]> = [
      [['--log-driver', 'carrier-pigeon'], 'error looking up logging plugin carrier-pigeon: plugin "carrier-pigeon" not found'],
      [['--log-opt', 'colour=blue'], "unknown log opt 'colour' for json-file log driver"],
      [['--log-driver', 'local', '--log-opt', 'colour=blue'], "unknown log opt 'colour' for log driver local"],
      [['--log-opt', 'mode=loud'], 'logger: logging mode not supported: loud'],
      [['--log-opt', 'max-buffer-size=1m'], "logger: max-buffer-size option is only supported with 'mode=non-blocking'"],
    ];
    for (const [opts, message] of refusedAtCreate) {
      const r = berth.docker(['create', ...opts, 'busybox', 'true']);
      assert.notEqual(r.code, 0, opts.join(' '));
      assert.equal(r.stderr.trim().split('\n')[0], `Error response from daemon: ${message}`);
    }
    const refusedAtStart: Array<[Record<string, unknown>, string]> = [
      [{ Type: 'json-file', Config: { 'max-size': 'abc' } }, "failed to initialize logging driver: invalid size: 'abc'"],
      [{ Type: 'json-file', Config: { 'max-size': '0' } }, 'failed to initialize logging driver: max-size must be a positive number'],
      [{ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '0' } }, 'failed to initialize logging driver: max-file cannot be less than 1'],
      [{ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': 'x' } }, 'failed to initialize logging driver: strconv.Atoi: parsing "x": invalid syntax'],
      [{ Type: 'json-file', Config: { compress: 'true' } }, 'failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set'],
      [{ Type: 'local', Config: { 'max-file': '1' } }, 'failed to initialize logging driver: compression cannot be enabled when max file count is 1'],
      [{ Type: 'local', Config: { 'max-size': 'abc' } }, "failed to initialize logging driver: invalid value for max-size: abc: invalid size: 'abc'"],
    ];
    for (const [logConfig, message] of refusedAtStart) {
      const created = await api(berth.socket, 'POST', '/v1.41/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { LogConfig: logConfig } }), { 'content-type': 'application/json' });
      assert.equal(created.status, 201, created.body);
      const { Id } = JSON.parse(created.body);
      const started = await api(berth.socket, 'POST', `/v1.41/containers/${Id}/start`);
      assert.equal(started.status, 500, JSON.stringify(logConfig));
      assert.equal(JSON.parse(started.body).message, message);
      berth.ok(['rm', Id]);
    }
    // max-file without max-size is accepted (nothing rotates), as dockerd does.
    assert.equal(berth.ok(['run', '--rm', '--log-opt', 'max-file=3', 'busybox', 'echo', 'ok']), 'ok\n');
    // `none` takes no options from the CLI, but the API lets them through as dockerd's does.
    const none = await api(berth.socket, 'POST', '/v1.41/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { LogConfig: { Type: 'none', Config: { 'max-size': '1m' } } } }), { 'content-type': 'application/json' });
    assert.equal(none.status, 201, none.body);
    berth.ok(['rm', JSON.parse(none.body).Id]);
  });

  it('reports json-file as the default driver: docker info, and LogConfig always filled in inspect', async () => {
    assert.equal(berth.ok(['info', '-f', '{{.LoggingDriver}}']).trim(), 'json-file');
    assert.deepEqual(JSON.parse(berth.ok(['info', '-f', '{{json .Plugins.Log}}'])), ['json-file', 'local']);
    const id = berth.ok(['create', 'busybox', 'echo', 'hi']).trim();
    let c = JSON.parse(berth.ok(['inspect', id]))[0];
    assert.deepEqual(c.HostConfig.LogConfig, { Type: 'json-file', Config: {} });
    assert.equal(c.LogPath, '', 'no LogPath before the first start (dockerd names it at start)');
    berth.ok(['start', '-a', id]);
    c = JSON.parse(berth.ok(['inspect', id]))[0];
    assert.equal(c.LogPath, join(berth.dataRoot, 'containers', id, `${id}-json.log`));
    // docker-py's test_valid_no_log_driver_specified / test_valid_no_config_specified.
    for (const [logConfig, want] of [
      [{ Type: '', Config: { 'max-file': '100' } }, { Type: 'json-file', Config: { 'max-file': '100' } }],
      [{ Type: 'json-file', Config: null }, { Type: 'json-file', Config: {} }],
      [{ Type: 'json-file', Config: { 'max-file': '100' } }, { Type: 'json-file', Config: { 'max-file': '100' } }],
    ] as const) {
      const created = await api(berth.socket, 'POST', '/v1.41/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { LogConfig: logConfig } }), { 'content-type': 'application/json' });
      const cid = JSON.parse(created.body).Id;
      assert.equal((await api(berth.socket, 'POST', `/v1.41/containers/${cid}/start`)).status, 204);
      assert.deepEqual(JSON.parse((await api(berth.socket, 'GET', `/v1.41/containers/${cid}/json`)).body).HostConfig.LogConfig, want);
      berth.ok(['rm', '-f', cid]);
    }
  });

  it('--log-driver local keeps a log docker logs reads, without a LogPath', () => {
    const id = berth.ok(['run', '-d', '--log-driver', 'local', 'busybox', 'sh', '-c', 'echo out; echo err >&2']).trim();
    berth.ok(['wait', id]);
    const c = JSON.parse(berth.ok(['inspect', id]))[0];
    assert.deepEqual(c.HostConfig.LogConfig, { Type: 'local', Config: {} });
    assert.equal(c.LogPath, '');
    const r = berth.docker(['logs', id]);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('LogPath holds dockerd\'s json-file lines, and no line is lost while berthd is down', async (t) => {
    // The container prints until the test creates /ctl/stop.
    const ctl = mkdtempSync(join(tmpdir(), 'berth-logs-ctl-'));
    t.after(() => rmSync(ctl, { recursive: true, force: true }));
    const id = berth.ok(['run', '-d', '-v', `${ctl}:/ctl`, 'busybox', 'sh', '-c', 'i=0; while [ ! -e /ctl/stop ]; do i=$((i+1)); echo "line $i <&>"; sleep 0.02; done; printf "no newline" >&2']).trim();
    const logPath = JSON.parse(berth.ok(['inspect', id]))[0].LogPath as string;
    const monitorLog = join(berth.dataRoot, 'containers', id, 'monitor-log', 'k8s.log');
    const count = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0);
    await waitFor(() => count(logPath) >= 5, { what: 'five shipped lines' });
    await berth.stop();
    // The container goes on printing with no daemon: wait for lines the daemon has not shipped.
    const shipped = count(logPath);
    await waitFor(() => count(monitorLog) >= shipped + 20, { what: 'twenty lines more in the monitor log' });
    assert.equal(count(logPath), shipped, 'nothing shipped while berthd is down');
    await berth.start();
    writeFileSync(join(ctl, 'stop'), '');
    berth.ok(['wait', id]);
    const lines = readFileSync(logPath, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'every entry ends with a newline');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, string>);
    const printed = entries.length - 1;
    assert.ok(printed >= shipped + 20, `${printed} lines`);
    const want = Array.from({ length: printed }, (_, i) => `line ${i + 1} <&>\n`);
    assert.deepEqual(entries.map((e) => e.log), [...want, 'no newline']);
    assert.deepEqual(entries.map((e) => e.stream), [...want.map(() => 'stdout'), 'stderr']);
    for (const [i, e] of entries.entries()) {
      assert.deepEqual(Object.keys(e), ['log', 'stream', 'time']);
      assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
      if (i > 0) assert.ok(sortable(e.time) >= sortable(entries[i - 1].time), 'in time order');
    }
    assert.match(lines[0], /^\{"log":"line 1 \\u003c\\u0026\\u003e\\n","stream":"stdout","time":"[^"]+"\}$/, 'escaped as dockerd escapes');
    const r = berth.docker(['logs', id]);
    assert.equal(r.stdout, want.join(''));
    assert.equal(r.stderr, 'no newline');
  });

  it('--since/--until select by time, -f ends when the container exits', async () => {
    // `late` comes once the test has taken its `mid` time, after `early` is in the log, and once
    // the exec that said go is gone: the container's end would kill it and fail `docker exec`.
    const id = berth.ok(['run', '-d', 'busybox', 'sh', '-c', 'echo early; while [ ! -e /tmp/go ]; do sleep 0.05; done; while [ -d /proc/$(cat /tmp/go) ]; do sleep 0.05; done; echo late']).trim();
    await waitForLog(berth, id, 'early\n');
    const mid = (Date.now() / 1000).toFixed(9);
    const follow = berth.dockerAsync(['logs', '-f', id], { timeoutMs: 10_000 });
    berth.ok(['exec', id, 'sh', '-c', 'echo $$ > /tmp/go.new && mv /tmp/go.new /tmp/go']);
    assert.equal((await follow).stdout, 'early\nlate\n');
    assert.equal(berth.ok(['logs', '--since', mid, id]), 'late\n');
    assert.equal(berth.ok(['logs', '--until', mid, id]), 'early\n');
  });
  it('--details prefixes the attributes chosen by --log-opt labels/env', () => {
    berth.ok(['run', '--label', 'team=blue', '--label', 'other=x', '-e', 'STAGE=dev test', '--log-opt', 'labels=team', '--log-opt', 'env=STAGE', 'busybox', 'echo', 'hello']);
    const cid = berth.ok(['ps', '-lq']).trim();
    assert.equal(berth.ok(['logs', '--details', cid]), 'STAGE=dev+test,team=blue hello\n');
    // --log-opt tag: dockerd's template, in each entry's attrs and in --details.
    const tagged = berth.ok(['run', '-d', '--name', 'tagged', '--label', 'a=1', '--log-opt', 'labels=a', '--log-opt', 'tag={{.Name}}/{{.ID}}/{{.ImageName}}/{{.DaemonName}}', 'busybox', 'echo', 'hi']).trim();
    berth.ok(['wait', tagged]);
    const tag = `tagged/${tagged.slice(0, 12)}/busybox/docker`;
    const entry = JSON.parse(readFileSync(JSON.parse(berth.ok(['inspect', tagged]))[0].LogPath, 'utf8'));
    assert.deepEqual(entry.attrs, { a: '1', tag });
    assert.deepEqual(Object.keys(entry), ['log', 'stream', 'attrs', 'time']);
    assert.equal(berth.ok(['logs', '--details', tagged]), `a=1,tag=${encodeURIComponent(tag)} hi\n`);
    const plain = berth.ok(['run', '-d', 'busybox', 'echo', 'plain']).trim();
    berth.ok(['wait', plain]);
    assert.equal(berth.ok(['logs', '--details', plain]), ' plain\n');
  });
});
