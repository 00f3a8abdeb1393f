/**
 * `berthd --userns-remap` through the stock CLI, as root: a user the test creates with its own
 * subordinate range (and `default`, dockerd's `dockremap`), containers in a user namespace with
 * that mapping, state under `<data-root>/<uid>.<gid>`, volumes owned by the remapped root, bind
 * mounts left as the host has them, `--userns=host`, dockerd's refusals, `name=userns`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ownerTag } from '../../../src/network/bridge';
import { nextFreeRange, parseSubIdFile, rangesOf } from '../../../src/engine/userns/subid-file';
import { api, Berth, DOCKER, needsRuntime, removeDaemonChains } from '../harness';

const RANGE = 65536;

/** Why this host cannot run these tests, or false. */
function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'userns-remap tests run as root';
  for (const tool of ['useradd', 'userdel', 'usermod']) {
    if (spawnSync(tool, ['--help']).error) return `${tool} is not installed`;
  }
  const max = Number(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim());
  if (!(max > 0)) return 'the host forbids user namespaces (user.max_user_namespaces is 0)';
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true']);
  if (probe.status !== 0) return `the host forbids user namespaces (unshare --user: ${probe.stderr?.toString().trim() || probe.error?.message})`;
  return false;
}
const SKIP = skipReason();

const run = (program: string, args: string[]) => {
  const r = spawnSync(program, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
};
const idOf = (flag: '-u' | '-g', name: string) => Number(run('id', [flag, name]).trim());
const subIds = (kind: 'uid' | 'gid') => parseSubIdFile(existsSync(`/etc/sub${kind}`) ? readFileSync(`/etc/sub${kind}`, 'utf8') : '');
/** The first range of `name` in /etc/subuid and /etc/subgid. */
const firstRanges = (name: string) => {
  const user = { name, uid: idOf('-u', name) };
  return { uid: rangesOf(subIds('uid'), user)[0]?.hostId, gid: rangesOf(subIds('gid'), user)[0]?.hostId };
};
/** `cat /proc/self/uid_map` lines without the column padding. */
const mapLines = (text: string) => text.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));

/** A daemon started with `--userns-remap <spec>`, on a data root the remapped root can traverse. */
async function remappedBerth(spec: string): Promise<Berth> {
  const b = new Berth({ extraArgs: ['--userns-remap', spec] });
  // mkdtemp makes the test dir 0700; dockerd refuses a path the remapped root cannot pass.
  chmodSync(b.dir, 0o711);
  try {
    await b.start();
    await b.loadBusybox();
  } catch (err) {
    await cleanupRemapped(b);
    throw err;
  }
  return b;
}

/** The harness's cleanup, plus the iptables chains named after the remapped root (`<uid>.<gid>`). */
async function cleanupRemapped(b: Berth): Promise<void> {
  const root = b.docker(['info', '--format', '{{.DockerRootDir}}']).stdout.trim();
  await b.cleanup();
  if (root) removeDaemonChains(`BERTH-${ownerTag(root).slice(0, 6).toUpperCase()}-`);
}

describe('userns-remap: a user with its own subordinate range', { skip: SKIP }, () => {
  const name = `brmp${randomBytes(3).toString('hex')}`;
  let start = 0;
  let berth: Berth;
  let hostDir: string;

  before(async () => {
    // Free in both files, so one start serves both (not needed by Berth, simpler to assert).
    start = Math.max(nextFreeRange(subIds('uid')), nextFreeRange(subIds('gid')));
    run('useradd', ['-r', '-M', '-s', '/bin/false', name]);
    run('usermod', ['-v', `${start}-${start + RANGE - 1}`, '-w', `${start}-${start + RANGE - 1}`, name]);
    berth = await remappedBerth(name);
    // A root-owned host directory with a root-owned file, bind-mounted below.
    hostDir = join(berth.dir, 'host-owned');
    mkdirSync(hostDir, { mode: 0o755 });
    writeFileSync(join(hostDir, 'f'), 'host\n', { mode: 0o644 });
  });
  after(async () => {
    if (berth) await cleanupRemapped(berth);
    spawnSync('usermod', ['--del-subuids', `${start}-${start + RANGE - 1}`, '--del-subgids', `${start}-${start + RANGE - 1}`, name]);
    spawnSync('userdel', [name]);
  });

  it('keeps its state under <data-root>/<uid>.<gid>, owned as dockerd owns it, and reports name=userns', () => {
    const info = JSON.parse(berth.ok(['info', '--format', '{{json .}}']));
    assert.equal(info.DockerRootDir, join(berth.dataRoot, `${start}.${start}`));
    assert.ok(info.SecurityOptions.includes('name=userns'), JSON.stringify(info.SecurityOptions));
    for (const dir of [berth.dataRoot, info.DockerRootDir, join(info.DockerRootDir, 'containers')]) {
      const st = statSync(dir);
      assert.deepEqual([st.mode & 0o777, st.uid, st.gid], [0o710, 0, start], dir);
    }
  });

  it('runs containers in a user namespace with the mapping, as root inside', () => {
    const out = berth.ok(['run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; cat /proc/self/gid_map; id -u']);
    assert.deepEqual(mapLines(out), [`0 ${start} ${RANGE}`, `0 ${start} ${RANGE}`, '0']);
  });

  it("owns the container's /etc files by the remapped root", () => {
    const out = berth.ok(['run', '--rm', 'busybox', 'sh', '-c', 'stat -c "%u %g" /etc/hosts /etc/hostname /etc/resolv.conf; echo 10.9.9.9 extra >> /etc/hosts && echo written']);
    assert.deepEqual(out.trim().split('\n'), ['0 0', '0 0', '0 0', 'written']);
  });

  it('leaves bind mounts as the host has them: root inside cannot write a root-owned host file', () => {
    const r = berth.docker(['run', '--rm', '-v', `${hostDir}:/b`, 'busybox', 'sh', '-c', 'cat /b/f; echo changed >> /b/f']);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /^host$/m, 'the file is readable');
    assert.match(r.stderr, /Permission denied/);
    assert.equal(readFileSync(join(hostDir, 'f'), 'utf8'), 'host\n');
    const st = statSync(join(hostDir, 'f'));
    assert.deepEqual([st.uid, st.gid], [0, 0]);
    // Read-only binds too: the runtime remounts them inside the user namespace, where the
    // source mount's nosuid/nodev/noexec/atime flags are locked and must be kept (dockerd).
    const locked = join(berth.dir, 'locked');
    mkdirSync(locked);
    run('mount', ['-t', 'tmpfs', '-o', 'nosuid,nodev,noexec,noatime,size=1m', 'tmpfs', locked]);
    writeFileSync(join(locked, 'f'), 'locked\n');
    for (const runtime of ['runc', 'crun'].filter((r) => !needsRuntime(r))) {
      assert.equal(berth.ok(['run', '--rm', '--runtime', runtime, '-v', `${hostDir}:/ro:ro`, 'busybox', 'cat', '/ro/f']).trim(), 'host', runtime);
      assert.equal(berth.ok(['run', '--rm', '--runtime', runtime, '-v', `${locked}:/l:ro`, 'busybox', 'cat', '/l/f']).trim(), 'locked', runtime);
    }
  });

  it('gives volumes to the remapped root: writable inside, owned by the mapped ids on the host', () => {
    berth.ok(['volume', 'create', 'vol']);
    berth.ok(['run', '--rm', '-v', 'vol:/data', 'busybox', 'sh', '-c', 'echo hi > /data/f']);
    const mountpoint = berth.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'vol']).trim();
    assert.equal(readFileSync(join(mountpoint, 'f'), 'utf8'), 'hi\n');
    for (const p of [mountpoint, join(mountpoint, 'f')]) {
      const st = statSync(p);
      assert.deepEqual([st.uid, st.gid], [start, start], p);
    }
  });

  it('runs a --userns=host container with the identity map', () => {
    const out = berth.ok(['run', '--rm', '--userns', 'host', '-v', `${hostDir}:/b`, 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; echo more >> /b/f && echo written']);
    assert.deepEqual(mapLines(out), ['0 0 4294967295', 'written']);
    chownSync(join(hostDir, 'f'), 0, 0);
    writeFileSync(join(hostDir, 'f'), 'host\n');
  });

  it("refuses privileged, host network and host PID without --userns=host, with dockerd's messages and status", async () => {
    const r = berth.docker(['run', '--rm', '--privileged', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /privileged mode is incompatible with user namespaces\. {2}You must run the container in the host namespace when running privileged mode/);
    const cases: Array<[object, string]> = [
      [{ Privileged: true }, 'privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode'],
      [{ NetworkMode: 'host' }, "cannot share the host's network namespace when user namespaces are enabled"],
      [{ PidMode: 'host' }, 'cannot share the host PID namespace when user namespaces are enabled'],
    ];
    for (const [hostConfig, message] of cases) {
      const res = await api(berth.socket, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: hostConfig }));
      assert.deepEqual([res.status, JSON.parse(res.body).message], [400, message]);
    }
    berth.ok(['run', '--rm', '--userns', 'host', '--net', 'host', '--pid', 'host', 'busybox', 'true']);
  });

  // The rootfs through the mapping: the idmapped layers and the archives crossing the boundary.

  it('shows image files as owned by root inside; what root writes is owned by the mapped ids in the upper dir', () => {
    berth.ok(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'stat -c "%u %g" /bin/busybox > /written']);
    const id = berth.ok(['inspect', '-f', '{{.Id}}', 'writer']).trim();
    const root = berth.ok(['info', '--format', '{{.DockerRootDir}}']).trim();
    const upperFile = join(root, 'containers', id, 'upper', 'written');
    assert.equal(readFileSync(upperFile, 'utf8').trim(), '0 0');
    const st = statSync(upperFile);
    assert.deepEqual([st.uid, st.gid], [start, start]);
  });

  it("copies the image's content into a new volume with the mapped ids", () => {
    berth.ok(['run', '--rm', '-v', 'bins:/bin', 'busybox', 'true']);
    const st = statSync(join(berth.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'bins']).trim(), 'busybox'));
    assert.deepEqual([st.uid, st.gid], [start, start]);
  });

  it('keeps container ids through docker cp and docker commit', () => {
    const local = join(berth.dir, 'cp-in');
    writeFileSync(local, 'in\n');
    berth.ok(['run', '--name', 'cpbox', 'busybox', 'sh', '-c', 'echo out > /out']);
    berth.ok(['cp', local, 'cpbox:/in']);
    const tarList = (path: string) => run('sh', ['-c', `DOCKER_HOST=${berth.host} ${DOCKER} cp cpbox:${path} - | tar -tvf - --numeric-owner`]);
    assert.match(tarList('/out'), /^-\S+ 0\/0 /);
    assert.match(tarList('/in'), /^-\S+ 0\/0 /);
    berth.ok(['commit', 'cpbox', 'cpimage']);
    assert.equal(berth.ok(['run', '--rm', 'cpimage', 'stat', '-c', '%u %g', '/out', '/in']).trim(), '0 0\n0 0');
  });

  it('docker export and diff show container ids; cp into a running container writes host ids; no layer mounts stay', () => {
    berth.ok(['run', '-d', '--name', 'live', 'busybox', 'sleep', '300']);
    berth.ok(['exec', 'live', 'sh', '-c', 'mkdir /data && chown 1000:1000 /data && touch /bin/busybox']);
    const local = join(berth.dir, 'live-in');
    writeFileSync(local, 'in\n');
    berth.ok(['cp', local, 'live:/data/']);
    const id = berth.ok(['inspect', '-f', '{{.Id}}', 'live']).trim();
    const upper = join(berth.ok(['info', '--format', '{{.DockerRootDir}}']).trim(), 'containers', id, 'upper');
    assert.deepEqual([statSync(join(upper, 'data')).uid, statSync(join(upper, 'data', 'live-in')).uid], [start + 1000, start]);
    assert.equal(berth.ok(['exec', 'live', 'stat', '-c', '%u %g', '/data', '/data/live-in', '/bin/busybox']).trim(), '1000 1000\n0 0\n0 0');
    const exported = run('sh', ['-c', `DOCKER_HOST=${berth.host} ${DOCKER} export live | tar -tvf - --numeric-owner`]);
    const ownerOf = (name: string) => exported.split('\n').find((l) => l.trim().endsWith(` ${name}`))?.split(/\s+/)[1];
    assert.deepEqual([ownerOf('data/'), ownerOf('data/live-in'), ownerOf('bin/busybox')], ['1000/1000', '0/0', '0/0']);
    const diff = berth.ok(['diff', 'live']).trim().split('\n');
    // /bin was copied up with host ids but is otherwise unchanged: not reported, as without remapping.
    assert.deepEqual(diff.filter((l) => /\/(bin|data)/.test(l)), ['C /bin/busybox', 'A /data', 'A /data/live-in']);
    assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), /merged-layers|archive-\w+-layers/);
  });

  it('builds an image whose layers carry container ids (COPY and RUN in remapped build containers)', () => {
    const ctx = join(berth.dir, 'build-ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'f'), 'copied\n');
    // The RUN step sees the COPY's file and the image's as root's, and runs as root (in the mapping).
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY f /f\nRUN stat -c "%u %g" /f /bin/busybox > /out && id -u >> /out && mkdir /d && chown 1000:1000 /d && touch /bin/busybox\n');
    berth.ok(['build', '-q', '-t', 'remapbuilt', ctx], { timeoutMs: 120_000 });
    assert.deepEqual(berth.ok(['run', '--rm', 'remapbuilt', 'cat', '/out']).trim().split('\n'), ['0 0', '0 0', '0']);
    assert.equal(berth.ok(['run', '--rm', 'remapbuilt', 'stat', '-c', '%u %g', '/f', '/d', '/bin/busybox']).trim(), '0 0\n1000 1000\n0 0');
    assert.equal(berth.ok(['run', '--rm', '--userns', 'host', 'remapbuilt', 'stat', '-c', '%u %g', '/f', '/d']).trim(), '0 0\n1000 1000');
  });

  it('shares the user namespace with a container whose network namespace it joins', () => {
    berth.ok(['run', '-d', '--name', 'netowner', 'busybox', 'sleep', '300']);
    const pid = berth.ok(['inspect', '-f', '{{.State.Pid}}', 'netowner']).trim();
    const out = berth.ok(['run', '--rm', '--network', 'container:netowner', 'busybox', 'readlink', '/proc/self/ns/user']);
    assert.equal(out.trim(), run('readlink', [`/proc/${pid}/ns/user`]).trim());
  });

  it('restarts a remapped container with its network (a new namespace from the runtime each run), and survives a daemon restart', async () => {
    berth.ok(['run', '-d', '--name', 'again', 'busybox', 'sleep', '300']);
    const ip = () => berth.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'again']).trim();
    assert.match(ip(), /^\d+\.\d+\.\d+\.\d+$/);
    berth.ok(['restart', '-t', '0', 'again']);
    const out = berth.ok(['exec', 'again', 'sh', '-c', 'cat /proc/self/uid_map; ip -4 -o addr show eth0']);
    assert.equal(mapLines(out)[0], `0 ${start} ${RANGE}`);
    assert.match(out, new RegExp(`inet ${ip().replace(/\./g, '\\.')}/`));
    // A daemon restart keeps it running, reachable and stoppable (live restore).
    await berth.restart();
    assert.equal(mapLines(berth.ok(['exec', 'again', 'cat', '/proc/self/uid_map']))[0], `0 ${start} ${RANGE}`);
    berth.ok(['stop', '-t', '1', 'again']);
    assert.equal(berth.ok(['inspect', '-f', '{{.State.Running}}', 'again']).trim(), 'false');
  });
});

describe('userns-remap default: the dockremap user', { skip: SKIP }, () => {
  const existed = spawnSync('id', ['dockremap']).status === 0;
  let berth: Berth;
  after(async () => {
    if (berth) await cleanupRemapped(berth);
    // Only what this test made goes (dockerd's own dockremap, if any, stays).
    if (!existed && spawnSync('id', ['dockremap']).status === 0) {
      const ranges = firstRanges('dockremap');
      if (ranges.uid !== undefined) spawnSync('usermod', ['--del-subuids', `${ranges.uid}-${ranges.uid + RANGE - 1}`, 'dockremap']);
      if (ranges.gid !== undefined) spawnSync('usermod', ['--del-subgids', `${ranges.gid}-${ranges.gid + RANGE - 1}`, 'dockremap']);
      spawnSync('userdel', ['dockremap']);
    }
  });

  it('creates dockremap with subordinate ranges if missing, and maps containers to them', async () => {
    berth = await remappedBerth('default');
    const ranges = firstRanges('dockremap');
    assert.ok(ranges.uid !== undefined && ranges.gid !== undefined, 'dockremap has ranges in /etc/subuid and /etc/subgid');
    assert.equal(berth.ok(['info', '--format', '{{.DockerRootDir}}']).trim(), join(berth.dataRoot, `${ranges.uid}.${ranges.gid}`));
    const out = berth.ok(['run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; cat /proc/self/gid_map']);
    assert.equal(mapLines(out)[0].split(' ').slice(0, 2).join(' '), `0 ${ranges.uid}`);
    assert.equal(mapLines(out)[1].split(' ').slice(0, 2).join(' '), `0 ${ranges.gid}`);
  });
});
