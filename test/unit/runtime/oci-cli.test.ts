import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConflictError, NotFoundError, NotImplementedError, UnavailableError } from '../../../src/errors';
import { ExternalCommandError } from '../../../src/host/command';
import { MissingRuntime } from '../../../src/runtime/missing-runtime';
import { OciCli, runcExecWording, runtimeErrorKind, runtimeErrorMessage, translateRuntimeError } from '../../../src/runtime/oci-cli';

const RUNC_MISSING = 'time="2026-11-26T23:23:24Z" level=error msg="container does not exist"\n';
const RUNC_EXEC =
  'time="2026-11-26T23:22:29Z" level=error msg="runc create failed: unable to start container process: exec: \\"nonexistent\\": executable file not found in $PATH"\n';

function failure(stderr: string, exitCode: number | null = 1) {
  return new ExternalCommandError({ program: '/usr/sbin/runc', argv: ['--root', '/run/x', 'start', 'c1'], exitCode, stderr });
}

describe('runtime stderr', () => {
  it("words crun's exec failures as runc does and leaves other messages alone", () => {
    const prefix = 'exec failed: unable to start container process:';
    assert.equal(runcExecWording('executable file `nope` not found in $PATH: No such file or directory', 'nope'), `${prefix} exec: "nope": executable file not found in $PATH`);
    assert.equal(runcExecWording('open executable: Permission denied', '/etc/passwd'), `${prefix} exec: "/etc/passwd": permission denied`);
    assert.equal(runcExecWording('chdir `/no/dir`: No such file or directory', 'pwd'), `${prefix} chdir to cwd ("/no/dir") set in config.json failed: no such file or directory`);
    const runcOwn = `${prefix} exec: "x": executable file not found in $PATH`;
    assert.equal(runcExecWording(runcOwn, 'x'), runcOwn);
    assert.equal(runcExecWording('cannot exec in a stopped container', 'x'), 'cannot exec in a stopped container');
  });

  it("extracts runc's logrus message (text and JSON formats) and crun's last line", () => {
    assert.equal(runtimeErrorMessage(RUNC_MISSING), 'container does not exist');
    assert.equal(
      runtimeErrorMessage(RUNC_EXEC),
      'runc create failed: unable to start container process: exec: "nonexistent": executable file not found in $PATH',
    );
    assert.equal(runtimeErrorMessage('{"level":"error","msg":"container not running","time":"x"}\n'), 'container not running');
    assert.equal(
      runtimeErrorMessage('time="x" level=warning msg="ignored"\ntime="x" level=error msg="real"\n'),
      'real',
    );
    assert.equal(runtimeErrorMessage('some warning\nexecutable file `x` not found in $PATH: No such file or directory\n'), 'executable file `x` not found in $PATH: No such file or directory');
  });

  it('maps missing containers to NotFoundError for runc and crun', () => {
    const ctx = { id: 'c1', root: '/run/berth/runtime-state/crun' };
    assert.ok(translateRuntimeError(failure(RUNC_MISSING), ctx) instanceof NotFoundError);
    const crunState = "error opening file `/run/berth/runtime-state/crun/c1/status`: No such file or directory\n";
    const crunDelete = "cannot open directory '/run/berth/runtime-state/crun/c1': No such file or directory\n";
    for (const stderr of [crunState, crunDelete]) {
      const err = translateRuntimeError(failure(stderr), ctx);
      assert.ok(err instanceof NotFoundError, stderr);
      assert.equal(err.message, 'No such container: c1');
    }
    // The same words about some other file are not a missing container.
    const other = translateRuntimeError(failure('error opening file `/bundle/config.json`: No such file or directory'), ctx);
    assert.ok(!(other instanceof NotFoundError));
  });

  it('maps state conflicts to ConflictError with the runtime message', () => {
    const ctx = { id: 'c1', root: '/r' };
    for (const msg of [
      'container not running',
      'cannot start a container that has stopped',
      'cannot start an already running container',
      'cannot delete container c1 that is not stopped: running',
      'the container `c1` is not in `created` or `stopped` state',
      'open pidfd: No such process',
      'container with id exists: c1',
    ]) {
      const err = translateRuntimeError(failure(`time="x" level=error msg="${msg}"`), ctx);
      assert.ok(err instanceof ConflictError, msg);
      assert.equal(err.message, msg);
    }
    assert.ok(translateRuntimeError(failure('cannot open `/r/c1/exec.fifo`: No such file or directory'), ctx) instanceof ConflictError);
  });

  it("maps runsc's missing containers, start conflicts and unknown commands", () => {
    const ctx = { id: 'c1', root: '/r' };
    for (const stderr of ['loading container: file does not exist\n', 'loading container "c1": file does not exist\n']) {
      assert.ok(translateRuntimeError(failure(stderr), ctx) instanceof NotFoundError, stderr);
    }
    const running = translateRuntimeError(failure('starting container: cannot start container "c1" in state running\n'), ctx);
    assert.ok(running instanceof ConflictError);
    // runsc prints its usage for a command it does not have (it has no `update`).
    const usage = 'Usage: runsc <flags> <subcommand> <subcommand args>\n\nSubcommands:\n\tcreate  create a secure container\n\nUse "runsc flags" for a list of top-level flags\n';
    const missing = translateRuntimeError(new ExternalCommandError({ program: '/usr/bin/runsc', argv: ['update', 'c1'], exitCode: 2, stderr: usage }), { ...ctx, verb: 'update' });
    assert.ok(missing instanceof NotImplementedError);
    assert.equal(missing.message, 'runsc does not implement "update"');
  });

  it("keeps other failures as ExternalCommandError carrying the runtime's own message", () => {
    const err = translateRuntimeError(failure(RUNC_EXEC), { id: 'c1', root: '/r' });
    assert.ok(err instanceof ExternalCommandError);
    assert.match(err.message, /^runc create failed: .*executable file not found in \$PATH$/);
    assert.equal(err.exitCode, 1);
    assert.equal(err.stderr, RUNC_EXEC);
  });

  it('classifies start failures like dockerd and the CLI (127 / 126)', () => {
    assert.equal(runtimeErrorKind('exec: "x": executable file not found in $PATH'), 'command-not-found');
    assert.equal(runtimeErrorKind('executable file `x` not found in $PATH: No such file or directory'), 'command-not-found');
    assert.equal(runtimeErrorKind('exec: "/bin": permission denied'), 'permission-denied');
    assert.equal(runtimeErrorKind('open executable: Operation not permitted'), 'permission-denied');
    assert.equal(runtimeErrorKind('something else'), undefined);
  });
});

describe('OciCli against a fake runtime', () => {
  let dir: string;
  let fake: string;
  const argvLog = () => join(dir, 'argv');
  const cli = (mode: string) =>
    new OciCli({ name: 'fake', path: fake, root: join(dir, 'state'), env: { PATH: '/usr/bin:/bin', FAKE_LOG: argvLog(), FAKE_MODE: mode } });
  const lastArgv = async () => (await readFile(argvLog(), 'utf8')).split('\n').slice(0, -1);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-ocicli-'));
    fake = join(dir, 'fake-runtime');
    await writeFile(
      fake,
      `#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_LOG"
case "$FAKE_MODE" in
  ok) ;;
  state) echo '{"ociVersion":"1.0.2","id":"c1","pid":42,"status":"running","bundle":"/b","rootfs":"/b/rootfs"}' ;;
  missing) echo '${RUNC_MISSING.trim()}' >&2; exit 1 ;;
  broken) echo 'something odd' >&2; exit 2 ;;
esac
`,
    );
    await chmod(fake, 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds argv per verb after the global --root', async () => {
    const rt = cli('ok');
    const root = ['--root', join(dir, 'state')];
    assert.deepEqual(rt.globalArgs, root);
    const cases: Array<[() => Promise<unknown>, string[]]> = [
      [() => rt.create('c1', '/b', '/b/pid'), ['create', '--bundle', '/b', '--pid-file', '/b/pid', 'c1']],
      [() => rt.start('c1'), ['start', 'c1']],
      [() => rt.kill('c1', 'SIGTERM'), ['kill', 'c1', 'SIGTERM']],
      [() => rt.kill('c1', 'KILL', true), ['kill', '--all', 'c1', 'KILL']],
      [() => rt.delete('c1'), ['delete', 'c1']],
      [() => rt.delete('c1', true), ['delete', '--force', 'c1']],
      [() => rt.pause('c1'), ['pause', 'c1']],
      [() => rt.resume('c1'), ['resume', 'c1']],
      [
        () => rt.exec('c1', { processPath: '/p.json', tty: true, detach: true, pidFile: '/e.pid' }),
        ['exec', '--process', '/p.json', '--pid-file', '/e.pid', '--detach', '--tty', 'c1'],
      ],
      [
        () => rt.update('c1', { memory: 1048576, memorySwap: -1, cpuShares: 512, pidsLimit: 10, cpusetCpus: '0-1' }),
        ['update', '--memory=1048576', '--memory-swap=-1', '--cpu-share=512', '--cpuset-cpus=0-1', '--pids-limit=10', 'c1'],
      ],
    ];
    for (const [call, expected] of cases) {
      await call();
      assert.deepEqual(await lastArgv(), [...root, ...expected]);
    }
  });

  it('parses state and reports a missing container as undefined', async () => {
    assert.deepEqual(await cli('state').state('c1'), { id: 'c1', pid: 42, status: 'running', bundle: '/b' });
    assert.equal(await cli('missing').state('c1'), undefined);
    await assert.rejects(cli('missing').kill('c1', 'SIGKILL'), NotFoundError);
    await assert.rejects(cli('broken').state('c1'), { name: 'ExternalCommandError', message: 'something odd' });
  });
});

describe('MissingRuntime', () => {
  it('fails every call with UnavailableError', async () => {
    const rt = new MissingRuntime('kata', '/opt/kata/bin/kata-runtime');
    for (const call of [() => rt.state('c1'), () => rt.delete('c1', true), () => rt.start('c1'), () => rt.kill('c1', 'SIGKILL')]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof UnavailableError);
        assert.match(err.message, /^unknown or invalid runtime name: kata/);
        return true;
      });
    }
  });
});
