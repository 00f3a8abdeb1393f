/**
 * The built-in runtime's create and exec verbs (src/runtime/builtin/native/create.c, exec.c,
 * process.c), driven directly with hand-written plans: no plan compiler, no engine. Each container
 * is a busybox rootfs; what the init sees is read from its stdout (the runtime hands its stdio on).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../integration/wait';
import { BUSYBOX } from './fixtures';

const BINARY = process.env.BERTH_RUNTIME_BIN ?? resolve(__dirname, '../../../src/runtime/builtin/berth-runtime');
const APPLETS = ['sh', 'cat', 'echo', 'sleep', 'true', 'id', 'ls', 'hostname', 'mount', 'grep', 'pwd', 'ps', 'touch'];

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, mounts, cgroups)';
  if (!existsSync(BINARY)) return `the built-in runtime is not built (${BINARY})`;
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (Debian: busybox-static)`;
  if (!existsSync('/usr/bin/conmon') && !existsSync('/usr/local/bin/conmon')) return 'conmon is missing';
  return undefined;
}

const MS = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, BIND: 4096, REC: 16384, SLAVE: 1 << 19, STRICTATIME: 1 << 24 };
// Docker's default capabilities: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
// NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
const DEFAULT_CAPS = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31].reduce((m, c) => m | (1n << BigInt(c)), 0n);

interface ProcessOpts {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: [number, number];
  noNewPrivileges?: boolean;
}

function rec(...fields: Array<string | number | bigint>): string {
  return fields.map((f) => String(f).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n')).join('\t');
}

function processRecords(p: ProcessOpts): string[] {
  const env = p.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  const [uid, gid] = p.user ?? [0, 0];
  return [
    rec('terminal', 0),
    ...p.args.map((a) => rec('arg', a)),
    ...env.map((e) => rec('env', e)),
    rec('cwd', p.cwd ?? '/'),
    rec('user', uid, gid, 18),
    rec('caps', DEFAULT_CAPS, DEFAULT_CAPS, 0, DEFAULT_CAPS, 0),
    rec('no-new-privileges', p.noNewPrivileges ? 1 : 0),
  ];
}

function cgroupDirs(parent: string, id: string): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return [join('/sys/fs/cgroup', parent, id)];
  return ['memory', 'pids'].map((c) => join('/sys/fs/cgroup', c, parent, id));
}

function containerPlan(rootfs: string, cgroups: string[], p: ProcessOpts, extra: string[] = []): string {
  const lines = [
    rec('berth-plan', 1),
    rec('rootfs', rootfs),
    rec('rootfs-propagation', MS.SLAVE | MS.REC),
    ...['pid', 'network', 'mount', 'ipc', 'uts'].map((t) => rec('namespace', t, '')),
    rec('hostname', 'planhost'),
    ...cgroups.map((c) => rec('cgroup', c)),
    rec('mount', '/proc', 'proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, 0, ''),
    rec('mount', '/dev', 'tmpfs', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 0, 'mode=755,size=65536k'),
    rec('mount', '/dev/pts', 'devpts', 'devpts', MS.NOSUID | MS.NOEXEC, 0, 'newinstance,ptmxmode=0666,mode=0620,gid=5'),
    rec('mount', '/dev/shm', 'shm', 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 0, 'mode=1777,size=65536k'),
    rec('mount', '/sys', 'sysfs', 'sysfs', MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, 0, ''),
    ...[['null', 3], ['zero', 5], ['full', 7], ['random', 8], ['urandom', 9]].map(([n, minor]) => rec('device', `/dev/${n}`, 'c', 1, minor, 0o666, 0, 0)),
    rec('symlink', '/proc/self/fd', '/dev/fd'),
    rec('symlink', 'pts/ptmx', '/dev/ptmx'),
    ...extra,
    rec('masked', '/proc/keys'),
    rec('masked', '/sys/firmware'),
    rec('readonly', '/proc/sys'),
    ...processRecords(p),
  ];
  return lines.join('\n') + '\n';
}

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(BINARY, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** For a create whose init outlives it: pipes would stay open in the init, so stderr goes to a file. */
function runDetached(args: string[], errFile: string): { code: number; stderr: string } {
  const fd = openSync(errFile, 'w+');
  try {
    const r = spawnSync(BINARY, args, { stdio: ['ignore', 'ignore', fd], timeout: 30_000 });
    return { code: r.status ?? -1, stderr: readFileSync(errFile, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

const skip = skipReason();

describe('built-in runtime: create, start and exec', { skip }, () => {
  let dir: string;
  let rootfs: string;
  let root: string;
  const parent = `berth-test-create-${process.pid}`;
  const ids: string[] = [];
  let n = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-builtin-create-'));
    rootfs = join(dir, 'rootfs');
    root = join(dir, 'state');
    for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) await mkdir(join(rootfs, d), { recursive: true });
    await copyFile(BUSYBOX, join(rootfs, 'bin/busybox'));
    for (const a of APPLETS) await symlink('busybox', join(rootfs, 'bin', a));
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(join(rootfs, 'bin/not-executable'), 'just text\n');
  });

  after(async () => {
    for (const id of ids) run(['--root', root, 'delete', '--force', id]);
    for (const id of ids) for (const c of cgroupDirs(parent, id)) await rmdir(c).catch(() => undefined);
    for (const c of cgroupDirs(parent, '')) await rmdir(c).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  async function bundle(p: ProcessOpts, extra: string[] = []): Promise<{ id: string; bundle: string }> {
    const id = `bc-${process.pid}-${n++}`;
    const b = join(dir, id);
    await mkdir(b);
    await writeFile(join(b, 'berth-plan'), containerPlan(rootfs, cgroupDirs(parent, id), p, extra));
    ids.push(id);
    return { id, bundle: b };
  }

  /** create + start with pipes as stdio (as conmon does); resolves with what the init wrote. */
  async function runContainer(p: ProcessOpts, extra: string[] = []): Promise<{ id: string; out: string; err: string }> {
    const { id, bundle: b } = await bundle(p, extra);
    const child = spawn(BINARY, ['--root', root, 'create', '--bundle', b, '--pid-file', join(b, 'pid'), id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    assert.equal(code, 0, `create failed: ${err}`);
    const pid = Number(await readFile(join(b, 'pid'), 'utf8'));
    assert.ok(pid > 0);
    const started = run(['--root', root, 'start', id]);
    assert.equal(started.code, 0, started.stderr);
    await new Promise<void>((res) => child.stdout.on('close', () => res())); // the init's copy closes at exit
    return { id, out, err };
  }

  it('runs the command with the plan\'s hostname, env, cwd, user, caps and mounts', async () => {
    const { out } = await runContainer({
      args: ['sh', '-c', 'hostname; id -u; id -g; pwd; echo "V=$V"; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; mount; ps -o pid,comm; echo end'],
      env: ['PATH=/bin', 'V=a b'],
      cwd: '/made/by/create',
    });
    const lines = out.split('\n');
    assert.deepEqual(lines.slice(0, 5), ['planhost', '0', '0', '/made/by/create', 'V=a b']);
    const hex = DEFAULT_CAPS.toString(16).padStart(16, '0');
    assert.ok(lines.includes(`CapEff:\t${hex}`), out);
    assert.ok(lines.includes(`CapBnd:\t${hex}`), out);
    assert.ok(lines.includes('NoNewPrivs:\t0'), out);
    assert.match(out, /^proc on \/proc type proc \(rw,nosuid,nodev,noexec/m);
    assert.match(out, /^devpts on \/dev\/pts type devpts/m);
    assert.match(out, /^sysfs on \/sys type sysfs \(ro,nosuid,nodev,noexec/m);
    assert.match(out, /^proc on \/proc\/sys type proc \(ro,nosuid,nodev,noexec/m);
    assert.match(out, /^tmpfs on \/sys\/firmware type tmpfs \(ro/m);
    assert.match(out, /on \/proc\/keys type/m);
    assert.match(out, /^\s+1 sh$/m, 'the command is pid 1 of its own pid namespace');
  });

  it('drops to the plan\'s user and sets no_new_privs', async () => {
    const { out } = await runContainer({ args: ['sh', '-c', 'id -u; id -g; grep NoNewPrivs /proc/self/status'], user: [1000, 1001], noNewPrivileges: true });
    assert.deepEqual(out.split('\n').slice(0, 3), ['1000', '1001', 'NoNewPrivs:\t1']);
  });

  it('resolves mount destinations inside the rootfs: a symlink to /etc cannot put a mount on the host', async () => {
    await symlink('/etc', join(rootfs, 'evil-abs'));
    await symlink('../../../../../../../../etc', join(rootfs, 'evil-rel'));
    const src = join(dir, 'bind-src');
    await mkdir(src);
    await writeFile(join(src, 'marker'), 'inside\n');
    const name = `berth-escape-${process.pid}`;
    const { out } = await runContainer({ args: ['sh', '-c', `cat /etc/${name}-a/marker /etc/${name}-b/marker`] }, [
      rec('mount', `/evil-abs/${name}-a`, src, '', MS.BIND | MS.REC, 0, ''),
      rec('mount', `/evil-rel/${name}-b`, src, '', MS.BIND | MS.REC | MS.RDONLY, 0, ''),
    ]);
    assert.equal(out, 'inside\ninside\n');
    assert.equal(existsSync(`/etc/${name}-a`), false);
    assert.equal(existsSync(`/etc/${name}-b`), false);
    assert.equal(existsSync(join(rootfs, 'etc', `${name}-a`)), true);
  });

  it('fails create with runc\'s words for a missing or non-executable command and leaves nothing behind', async () => {
    for (const [cmd, message] of [
      ['no-such-command', 'exec: "no-such-command": executable file not found in $PATH'],
      ['/bin/not-executable', 'exec: "/bin/not-executable": permission denied'],
    ]) {
      const { id, bundle: b } = await bundle({ args: [cmd] });
      const r = run(['--root', root, 'create', '--bundle', b, id]);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.equal(existsSync(join(root, id)), false, 'no state directory stays');
      for (const c of cgroupDirs(parent, id)) assert.equal(existsSync(c), false, `${c} was removed`);
    }
  });

  it('refuses an id that exists', async () => {
    const { id, bundle: b } = await bundle({ args: ['sleep', '30'] });
    assert.equal(runDetached(['--root', root, 'create', `--bundle=${b}`, id], join(b, 'err')).code, 0);
    const again = runDetached(['--root', root, 'create', '--bundle', b, id], join(b, 'err'));
    assert.equal(again.code, 1);
    assert.ok(again.stderr.includes(`container with id exists: ${id}`), again.stderr);
    assert.equal(run(['--root', root, 'delete', '--force', id]).code, 0);
  });

  it('execs into a running container: its pid namespace, cwd, env, user and exit code', async () => {
    const { id, bundle: b } = await bundle({ args: ['sleep', '300'] });
    assert.equal(runDetached(['--root', root, 'create', '--bundle', b, id], join(b, 'err')).code, 0);
    assert.equal(run(['--root', root, 'start', id]).code, 0);
    const proc = join(b, 'exec-process.json');
    await writeFile(proc, '{}');
    await writeFile(`${proc}.berth-plan`, [rec('berth-plan', 1), ...processRecords({
      args: ['sh', '-c', 'hostname; id -u; pwd; echo "E=$E"; ps -o pid,comm | grep -c sleep; exit 5'],
      env: ['PATH=/bin', 'E=exec env'],
      cwd: '/tmp',
      user: [123, 456],
    })].join('\n') + '\n');
    const r = run(['--root', root, 'exec', '--process', proc, '--pid-file', join(b, 'exec.pid'), id]);
    assert.equal(r.code, 5, r.stderr);
    assert.deepEqual(r.stdout.split('\n').slice(0, 5), ['planhost', '123', '/tmp', 'E=exec env', '1']);
    assert.ok(Number(await readFile(join(b, 'exec.pid'), 'utf8')) > 0);

    await writeFile(`${proc}.berth-plan`, [rec('berth-plan', 1), ...processRecords({ args: ['nope'] })].join('\n') + '\n');
    const missing = run(['--root', root, 'exec', '--process', proc, id]);
    assert.equal(missing.code, 1);
    assert.ok(missing.stderr.includes('exec: "nope": executable file not found in $PATH'), missing.stderr);
    assert.equal(run(['--root', root, 'delete', '--force', id]).code, 0);
  });

  it('runs the OCI hooks of every phase with the state on stdin, where each phase runs, and fails create on a failing one', async () => {
    const out = join(dir, `hooks-${process.pid}`);
    await mkdir(out, { recursive: true });
    // Host-side phases write into `out`; startContainer runs in the container, after pivot_root,
    // so its sh is the container's and its file lands in the rootfs.
    const hook = (phase: string, target: string) => rec('hook', phase, 10, '/bin/sh', 3, 'sh', '-c', `cat > ${target}`, 1, 'PATH=/bin:/usr/bin');
    const hostPhases = ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop'];
    const { id } = await runContainer({ args: ['true'] }, [
      ...hostPhases.map((p) => hook(p, join(out, `${p}.json`))),
      hook('startContainer', `/tmp/startContainer-${process.pid}.json`),
    ]);
    assert.equal(run(['--root', root, 'delete', id]).code, 0);
    for (const phase of hostPhases) {
      const state = JSON.parse(await readFile(join(out, `${phase}.json`), 'utf8')) as { id: string; pid: number; bundle: string };
      assert.equal(state.id, id, phase);
    }
    const inContainer = JSON.parse(await readFile(join(rootfs, `tmp/startContainer-${process.pid}.json`), 'utf8')) as { id: string };
    assert.equal(inContainer.id, id);

    const { id: failing, bundle: b } = await bundle({ args: ['true'] }, [rec('hook', 'prestart', 10, '/bin/sh', 3, 'sh', '-c', 'exit 3', 0)]);
    const r = run(['--root', root, 'create', '--bundle', b, failing]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes('error running prestart hook #0: exit status 3'), r.stderr);
    assert.equal(existsSync(join(root, failing)), false, 'no state directory stays');
  });

  it('under conmon: the init becomes conmon\'s child and its exit code reaches the exit file', async () => {
    const { id, bundle: b } = await bundle({ args: ['sh', '-c', 'echo to-the-log; exit 3'] });
    const exitDir = join(b, 'exits');
    await mkdir(exitDir);
    await mkdir(join(b, 'sock'));
    const conmon = existsSync('/usr/bin/conmon') ? '/usr/bin/conmon' : '/usr/local/bin/conmon';
    const child = spawn(conmon, [
      '--api-version', '1', '--cid', id, '--cuuid', id, '--name', id, '--runtime', BINARY,
      '--runtime-arg', '--root', '--runtime-arg', root, '--bundle', b, '--exit-dir', exitDir,
      '--socket-dir-path', join(b, 'sock'), '--log-path', `k8s-file:${join(b, 'log')}`,
      '--container-pidfile', join(b, 'pid'), '--conmon-pidfile', join(b, 'conmon.pid'),
    ], { cwd: b, env: { ...process.env, _OCI_SYNCPIPE: '3' }, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    // conmon's daemon keeps its copy of the sync pipe: read up to the one JSON line it writes.
    const sync = await new Promise<string>((res) => {
      let text = '';
      const pipe = child.stdio[3] as NodeJS.ReadableStream;
      pipe.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('}')) res(text);
      });
      pipe.on('close', () => res(text));
    });
    (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
    const pid = Number(/"data":\s*(-?\d+)/.exec(sync)?.[1]);
    assert.ok(pid > 0, `sync: ${sync}`);
    const monitor = Number(await readFile(join(b, 'conmon.pid'), 'utf8'));
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    assert.equal(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), monitor, 'the init\'s parent is conmon');
    assert.equal(run(['--root', root, 'start', id]).code, 0);
    const exitFile = join(exitDir, id);
    await waitFor(() => existsSync(exitFile), { what: 'conmon\'s exit file', timeout: 10_000 });
    assert.equal((await readFile(exitFile, 'utf8')).trim(), '3');
    assert.match(await readFile(join(b, 'log'), 'utf8'), /stdout F to-the-log/);
  });
});
