/**
 * Berth's built-in runtime (`--runtime berth`, src/runtime/builtin/) through the docker CLI:
 * output and exit codes, stdin, TTYs, exec, stop, logs, volumes, read-only root, users,
 * capabilities, privileged, cgroup limits seen from inside, published ports on the bridge and a
 * daemon restart. Skipped until `npm run build` built its executor.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BERTH_RUNTIME_PATH } from '../../../src/runtime/builtin/runtime-entry';
import { detectCgroupLayout } from '../../../src/runtime/cgroups';
import { freePort, startBerth, type Berth } from '../harness';
import { waitForHttp, waitForState } from '../wait';

const skip = existsSync(BERTH_RUNTIME_PATH) ? false : `the berth runtime is not built (${BERTH_RUNTIME_PATH})`;
/** Until the built-in runtime applies seccomp profiles its containers run unconfined. */
const RUN = ['run', '--runtime', 'berth'];
const v2 = detectCgroupLayout() === 'v2';
const rand = () => Math.random().toString(36).slice(2, 8);

describe('the built-in runtime (--runtime berth)', { skip }, () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('is listed in docker info', () => {
    const runtimes = JSON.parse(berth.ok(['info', '--format', '{{json .Runtimes}}']));
    assert.deepEqual(runtimes.berth, { path: BERTH_RUNTIME_PATH });
  });

  it('runs a command: output, exit code, stdin, HOME and the hostname', () => {
    const r = berth.docker([...RUN, '--rm', '--hostname', 'boat', 'busybox', 'sh', '-c', 'echo out; echo err >&2; echo $HOME $(hostname); exit 7']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'out\n/root boat\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(berth.ok([...RUN, '-i', '--rm', 'busybox', 'cat'], { input: 'through stdin\n' }), 'through stdin\n');
    const missing = berth.docker([...RUN, '--rm', 'busybox', 'no-such-command']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /executable file not found in \$PATH/);
    // A relative command is found from the working directory, for run and for exec (runc's rule).
    assert.equal(berth.ok([...RUN, '--rm', '-w', '/bin', 'busybox', './echo', 'relative']), 'relative\n');
    const badCwd = berth.docker([...RUN, '--rm', '-w', '/no/such', 'busybox', 'true']);
    assert.equal(badCwd.code, 0, badCwd.stderr); // dockerd creates a missing WORKDIR, and so does Berth
  });

  it('gives -t a terminal', () => {
    const r = berth.dockerTty([...RUN, '--rm', '-t', 'busybox', 'sh', '-c', 'tty; stty size']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/0/);
  });

  it('execs in a running container, keeps its logs, stops it', async () => {
    const name = `bx${rand()}`;
    berth.ok([...RUN, '-d', '--name', name, 'busybox', 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']);
    const hostname = JSON.parse(berth.ok(['inspect', name]))[0].Config.Hostname;
    assert.equal(berth.ok(['exec', name, 'sh', '-c', 'echo in $(hostname)']), `in ${hostname}\n`);
    assert.equal(berth.docker(['exec', name, 'sh', '-c', 'exit 4']).code, 4);
    assert.equal(berth.ok(['exec', '-i', name, 'cat'], { input: 'exec stdin\n' }), 'exec stdin\n');
    assert.match(berth.dockerTty(['exec', '-t', name, 'tty']).stdout, /\/dev\/pts\/\d+/);
    assert.equal(berth.ok(['exec', '-u', '1000', name, 'id', '-u']), '1000\n');
    berth.ok(['stop', name]);
    const state = await waitForState(berth, name, (s) => !s.Running);
    assert.equal(state.ExitCode, 0);
    assert.equal(berth.ok(['logs', name]), 'started\nbye\n');
    berth.ok(['rm', name]);
  });

  it('mounts volumes, and --read-only leaves only them and the tmpfs mounts writable', () => {
    const vol = `bv${rand()}`;
    berth.ok([...RUN, '--rm', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(berth.ok([...RUN, '--rm', '-v', `${vol}:/data:ro`, 'busybox', 'cat', '/data/f']), 'kept\n');
    const ro = berth.docker([...RUN, '--rm', '--read-only', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'touch /x 2>/dev/null && echo rootfs-writable; touch /data/y /dev/shm/z && echo ok']);
    assert.equal(ro.stdout, 'ok\n', ro.stderr);
    berth.ok(['volume', 'rm', vol]);
  });

  it('runs as --user, drops --cap-drop capabilities, and --privileged gets them all', () => {
    assert.equal(berth.ok([...RUN, '--rm', '--user', '1000:1000', 'busybox', 'id']), 'uid=1000(berthtest) gid=1000(berthtest) groups=1000(berthtest)\n');
    const capEff = (args: string[]) => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(berth.ok([...RUN, '--rm', ...args, 'busybox', 'cat', '/proc/self/status']))![1]}`);
    const normal = capEff([]);
    assert.equal(normal, 0xa80425fbn, "dockerd's default set");
    assert.equal(capEff(['--cap-drop', 'NET_RAW']), normal & ~(1n << 13n));
    assert.equal(capEff(['--cap-add', 'SYS_ADMIN']), normal | (1n << 21n));
    assert.ok(capEff(['--privileged']) > normal);
    const timerList = (args: string[]) => Number(berth.ok([...RUN, '--rm', ...args, 'busybox', 'sh', '-c', 'wc -c < /proc/timer_list']));
    assert.equal(timerList([]), 0, 'masked');
    assert.ok(timerList(['--privileged']) > 0, 'nothing masked when privileged');
    const cgroupRw = berth.ok([...RUN, '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep -c " /sys/fs/cgroup/[a-z]* rw," /proc/self/mountinfo || true']);
    assert.ok(v2 || Number(cgroupRw) > 0, 'cgroups writable when privileged');
  });

  it('puts --pids-limit and --memory into the cgroup the container sees', () => {
    const files = v2 ? 'cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max' : 'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes';
    assert.equal(berth.ok([...RUN, '--rm', '--pids-limit', '42', '--memory', '64m', 'busybox', 'sh', '-c', files]), `42\n${64 * 1024 * 1024}\n`);
    // The limit holds: a fork bomb stops at 42 processes.
    const r = berth.docker([...RUN, '--rm', '--pids-limit', '10', 'busybox', 'sh', '-c', 'for i in $(seq 20); do sleep 5 & done 2>/dev/null; echo $(ls /proc | grep -c "^[0-9]")']);
    assert.ok(Number(r.stdout) <= 10, r.stdout + r.stderr);
  });

  it('publishes ports on the default bridge', async () => {
    const port = await freePort();
    const name = `bp${rand()}`;
    berth.ok([...RUN, '-d', '--name', name, '-p', `${port}:80`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo port-ok > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.equal(await waitForHttp(`http://127.0.0.1:${port}/`), 'port-ok\n');
    berth.ok(['rm', '-f', name]);
  });

  it('keeps its containers across a daemon restart', async () => {
    const name = `br${rand()}`;
    berth.ok([...RUN, '-d', '--name', name, 'busybox', 'sleep', '300']);
    await berth.restart();
    assert.equal((await waitForState(berth, name, (s) => s.Running)).Running, true);
    assert.equal(berth.ok(['exec', name, 'echo', 'still here']), 'still here\n');
    berth.ok(['pause', name]);
    assert.equal((await waitForState(berth, name, (s) => s.Paused)).Paused, true);
    berth.ok(['unpause', name]);
    berth.ok(['stop', '-t', '1', name]);
    assert.equal((await waitForState(berth, name, (s) => !s.Running)).ExitCode, 137);
    berth.ok(['rm', name]);
  });
});
