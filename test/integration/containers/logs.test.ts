import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    await sleep(400);
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

  it('refuses unknown drivers and options with dockerd\'s messages', () => {
    assert.match(berth.docker(['run', '--rm', '--log-driver', 'carrier-pigeon', 'busybox', 'true']).stderr, /no log driver named 'carrier-pigeon' is registered/);
    assert.match(berth.docker(['run', '--rm', '--log-opt', 'colour=blue', 'busybox', 'true']).stderr, /unknown log opt 'colour' for json-file log driver/);
    assert.match(berth.docker(['run', '--rm', '--log-opt', 'max-file=2', 'busybox', 'true']).stderr, /max-file can only be used with max-size/);
  });

  it('--since/--until select by time, -f ends when the container exits', () => {
    const id = berth.ok(['run', '-d', 'busybox', 'sh', '-c', 'echo early; sleep 1.2; echo late; sleep 0.5']).trim();
    const mid = String(Math.floor(Date.now() / 1000) + 1);
    assert.equal(berth.ok(['logs', '-f', id], { timeoutMs: 10_000 }), 'early\nlate\n');
    assert.equal(berth.ok(['logs', '--since', mid, id]), 'late\n');
    assert.equal(berth.ok(['logs', '--until', mid, id]), 'early\n');
  });
  it('--details prefixes the attributes chosen by --log-opt labels/env', () => {
    berth.ok(['run', '--label', 'team=blue', '--label', 'other=x', '-e', 'STAGE=dev test', '--log-opt', 'labels=team', '--log-opt', 'env=STAGE', 'busybox', 'echo', 'hello']);
    const cid = berth.ok(['ps', '-lq']).trim();
    assert.equal(berth.ok(['logs', '--details', cid]), 'STAGE=dev+test,team=blue hello\n');
    const plain = berth.ok(['run', '-d', 'busybox', 'echo', 'plain']).trim();
    berth.ok(['wait', plain]);
    assert.equal(berth.ok(['logs', '--details', plain]), ' plain\n');
  });
});
