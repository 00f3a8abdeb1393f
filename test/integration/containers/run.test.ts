import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';

describe('docker run', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('prints the output and exits 0, leaving nothing with --rm', () => {
    const r = berth.docker(['run', '--rm', 'busybox', 'echo', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(berth.ok(['ps', '-aq']), '');
  });

  it('runs containers and exec processes at the normal priority, though the API thread is raised', () => {
    // Field 19 of /proc/<pid>/stat is the nice value (the fixture's busybox has no `nice`).
    const niceOf = ['awk', '{print $19}', '/proc/self/stat'];
    assert.equal(berth.ok(['run', '--rm', 'busybox', ...niceOf]), '0\n');
    berth.ok(['run', '-d', '--name', 'niceness', 'busybox', 'sleep', '60']);
    try {
      assert.equal(berth.ok(['exec', 'niceness', ...niceOf]), '0\n');
    } finally {
      berth.ok(['rm', '-f', 'niceness']);
    }
  });

  it('propagates the exit code', () => {
    assert.equal(berth.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).code, 3);
  });

  it('keeps stdout and stderr apart', () => {
    const r = berth.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('pipes stdin with -i and delivers output produced after EOF', () => {
    const r = berth.docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'data\nmore data\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'data\nmore data\n');
    const wc = berth.docker(['run', '-i', '--rm', 'busybox', 'wc', '-l'], { input: 'a\nb\nc\n' });
    assert.equal(wc.stdout.trim(), '3');
  });

  it('gives a real tty with -t', () => {
    const r = berth.dockerTty(['run', '-t', '--rm', 'busybox', 'tty']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  it('applies Docker container basics: hostname, env, workdir, user, namespaces', () => {
    const id = berth.ok(['create', '--name', 'basics', '-e', 'FOO=bar', '-w', '/tmp', '-u', 'berthtest', 'busybox', 'sh', '-c',
      'hostname; echo $FOO; pwd; id -u; id -g; echo $$; ls /dev; cat /proc/1/cmdline | tr "\\0" " "; echo; ls /proc/kcore 2>&1 | head -1; touch /proc/sys/x 2>&1 | head -1; df /dev/shm | tail -1']).trim();
    const r = berth.docker(['start', '-a', 'basics']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], id.slice(0, 12), 'hostname is the short ID');
    assert.equal(lines[1], 'bar');
    assert.equal(lines[2], '/tmp');
    assert.equal(lines[3], '1000');
    assert.equal(lines[4], '1000');
    assert.equal(lines[5], '1', 'own pid namespace');
    for (const dev of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'mqueue']) assert.ok(r.stdout.includes(dev), `/dev/${dev}`);
    assert.match(r.stdout, /sh -c hostname/);
    assert.match(r.stdout, /Read-only file system|Permission denied|No such file/);
    assert.match(lines[lines.length - 2], /65536|64M|shm/);
    berth.ok(['rm', 'basics']);
  });

  it('--group-add: numeric and named groups (from the image\'s /etc/group) in id -G, for execs too', () => {
    // busybox's /etc/group: root 0, nobody 65534, berthtest 1000.
    const groups = (out: string) => out.trim().split(' ').sort();
    assert.deepEqual(groups(berth.ok(['run', '--rm', '--group-add', '10', '--group-add', 'nobody', '--group-add', '1234', 'busybox', 'id', '-G'])), ['0', '10', '1234', '65534'].sort());
    assert.deepEqual(groups(berth.ok(['run', '--rm', '--user', '1000:1000', '--group-add', 'nobody', 'busybox', 'id', '-G'])), ['1000', '65534']);
    const id = berth.ok(['run', '-d', '--group-add', '55', 'busybox', 'sleep', '60']).trim();
    assert.deepEqual(groups(berth.ok(['exec', id, 'id', '-G'])), ['0', '55']);
    assert.deepEqual(groups(berth.ok(['exec', '-u', '1000', id, 'id', '-G'])), ['1000', '55']);
    berth.ok(['rm', '-f', id]);
    const missing = berth.docker(['run', '--rm', '--group-add', 'wheel', 'busybox', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /Error response from daemon: Unable to find group wheel: no matching entries in group file/);
  });

  it('gives the container its own namespaces (loopback only with --network none)', () => {
    const kinds = ['pid', 'mnt', 'uts', 'ipc', 'net'];
    const inside = berth.ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', `for n in ${kinds.join(' ')}; do readlink /proc/self/ns/$n; done; ls /sys/class/net; ip -o link show lo | grep -c UP`]).trim().split('\n');
    kinds.forEach((kind, i) => {
      assert.match(inside[i], new RegExp(`^${kind}:`));
      assert.notEqual(inside[i], readlinkSync(`/proc/self/ns/${kind}`), `own ${kind} namespace`);
    });
    assert.deepEqual(inside.slice(kinds.length), ['lo', '1']);
  });

  it('honours --stop-timeout from the container config', () => {
    berth.ok(['run', '-d', '--name', 'slowstop', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 1; done']);
    const t0 = Date.now();
    berth.ok(['stop', 'slowstop']);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 8000, `stopped after the 1 s StopTimeout, not the default 10 s (${took} ms)`);
    assert.equal(JSON.parse(berth.ok(['inspect', 'slowstop']))[0].State.ExitCode, 137);
    berth.ok(['rm', 'slowstop']);
  });

  it('runs root with Docker\'s default capabilities', () => {
    const r = berth.ok(['run', '--rm', 'busybox', 'sh', '-c', 'id -u; grep CapEff /proc/self/status']);
    assert.match(r, /^0\nCapEff:\s+00000000a80425fb\n$/);
  });

  it('merges Entrypoint and Cmd with the image config', () => {
    assert.equal(berth.ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'a', 'b']), 'a b\n');
    assert.equal(berth.ok(['run', '--rm', '--entrypoint', '/bin/echo', 'busybox']), '\n');
  });

  it('reports a missing executable with the runtime message and exit 127, leaving nothing behind', () => {
    const r = berth.docker(['run', '--rm', 'busybox', 'no-such-binary']);
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /no-such-binary/);
    assert.match(r.stderr, /executable file not found|no such file or directory/);
    assert.equal(berth.ok(['ps', '-aq']), '');
  });
});
