import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ExternalCommandError, runCommand } from '../../../src/host/command';

describe('runCommand', () => {
  it('runs without a shell and returns stdout and stderr', async () => {
    const r = await runCommand('/bin/sh', ['-c', 'printf "%s|" "$@"; echo warn >&2', 'sh', 'a b', '$HOME', "it's"]);
    assert.equal(r.stdout, "a b|$HOME|it's|");
    assert.equal(r.stderr, 'warn\n');
  });

  it('gives the program only the environment it is handed', async () => {
    const r = await runCommand('/bin/sh', ['-c', 'env | sort'], { env: { PATH: '/bin', FOO: 'bar' } });
    assert.match(r.stdout, /^FOO=bar$/m);
    assert.doesNotMatch(r.stdout, /^HOME=/m);
  });

  it('writes input to stdin', async () => {
    const r = await runCommand('/bin/cat', [], { input: 'hello' });
    assert.equal(r.stdout, 'hello');
  });

  it('turns a non-zero exit into ExternalCommandError with program, argv, exit code and stderr', async () => {
    await assert.rejects(runCommand('/bin/sh', ['-c', 'echo bad thing >&2; exit 7']), (err: unknown) => {
      assert.ok(err instanceof ExternalCommandError);
      assert.equal(err.program, '/bin/sh');
      assert.deepEqual(err.argv, ['-c', 'echo bad thing >&2; exit 7']);
      assert.equal(err.exitCode, 7);
      assert.equal(err.stderr, 'bad thing\n');
      assert.equal(err.message, 'bad thing');
      return true;
    });
  });

  it('reports a program that does not exist', async () => {
    await assert.rejects(runCommand('/nonexistent/program', []), (err: unknown) => {
      assert.ok(err instanceof ExternalCommandError);
      assert.equal(err.exitCode, null);
      assert.match(err.message, /ENOENT/);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
      return true;
    });
  });

  it('kills a program that outlives its timeout', async () => {
    const t0 = Date.now();
    await assert.rejects(runCommand('/bin/sleep', ['10'], { timeoutMs: 200 }), (err: unknown) => {
      assert.ok(err instanceof ExternalCommandError);
      assert.equal(err.signal, 'SIGKILL');
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
  });

  it('kills the program when the caller aborts', async () => {
    const ac = new AbortController();
    const running = runCommand('/bin/sleep', ['10'], { signal: ac.signal });
    ac.abort();
    await assert.rejects(running, (err: unknown) => {
      assert.ok(err instanceof ExternalCommandError);
      assert.equal(err.signal, 'SIGKILL');
      assert.match(err.message, /aborted/);
      return true;
    });
  });

  it('runs many programs at once, each with its own output', async () => {
    const outs = await Promise.all(Array.from({ length: 30 }, (_, i) => runCommand('/bin/echo', [String(i)])));
    assert.deepEqual(
      outs.map((o) => o.stdout),
      Array.from({ length: 30 }, (_, i) => `${i}\n`),
    );
  });

  it('an idle command thread does not keep the process alive', async () => {
    const module = join(__dirname, '..', '..', '..', 'src', 'host', 'command.js');
    const script = `require(${JSON.stringify(module)}).runCommand('/bin/echo', ['ran']).then((r) => process.stdout.write(r.stdout))`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { timeout: 10_000 }, (err, out) => (err ? reject(err) : resolve(out))),
    );
    assert.equal(stdout, 'ran\n');
  });
});
