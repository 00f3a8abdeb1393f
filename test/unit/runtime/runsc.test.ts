/**
 * gVisor's runsc, configured as `--add-runtime runsc=<path>` would: the shared conformance suite,
 * minus what runsc (Debian's 0.0~20221219) genuinely does differently, and those differences.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runtimeErrorKind } from '../../../src/runtime/oci-cli';
import { waitFor } from '../../integration/wait';
import { runtimeConformance } from './conformance';
import { canRunContainers, makeSandbox, runtimeInstalled, type Sandbox } from './fixtures';

runtimeConformance('runsc', {
  update: 'runsc has no update command (see "differences" below)',
  tty: 'runsc hands the container the terminal as a host file, not a /dev/pts device (see below)',
  missingCommandAtCreate: 'runsc looks the command up at start, not create (see below)',
  duplicateCreate: "runsc's failed create of an id in use removes that running container's state (a runsc bug; Berth never creates an id twice)",
});

describe('runsc: where it differs from runc', { skip: !runtimeInstalled('runsc') ? 'runsc is not installed' : canRunContainers(), concurrency: true }, () => {
  let sb: Sandbox;
  before(async () => {
    sb = await makeSandbox('runsc');
  });
  after(async () => {
    await sb?.cleanup();
  });

  it('a missing command fails start (not create) with the message Berth turns into exit code 127', async () => {
    const { id, paths } = await sb.bundle(['nonexistent-command']);
    await sb.monitor.launch({ id, runtime: sb.runtime, paths, tty: false, stdin: false, stdinOnce: false });
    await assert.rejects(sb.runtime.start(id), (err: Error) => {
      assert.match(err.message, /nonexistent-command/);
      assert.equal(runtimeErrorKind(err.message), 'command-not-found');
      return true;
    });
    await sb.runtime.delete(id, true);
    assert.equal(await sb.runtime.state(id), undefined);
  });

  it('TTY: stdio is a terminal (with no /dev/pts name); a resize reaches it', async () => {
    const { id, paths } = await sb.bundle(['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo is-a-tty; read x; stty size'], { tty: true, consoleSize: { height: 30, width: 100 } });
    await sb.monitor.launch({ id, runtime: sb.runtime, paths, tty: true, stdin: true, stdinOnce: true });
    const session = await sb.monitor.attach(paths);
    let out = '';
    session.onData((_stream, data) => (out += data.toString('utf8')));
    await sb.runtime.start(id);
    await waitFor(() => out.includes('is-a-tty\r\n'), { what: 'the shell to find a terminal' });
    await sb.monitor.resize(paths, 40, 120);
    session.write(Buffer.from('\n'));
    assert.equal(await sb.waitExit(id, paths), 0);
    assert.match(out, /40 120\r\n$/);
  });

  it('update is NotImplementedError naming the command', async () => {
    const { id, paths } = await sb.bundle(['sleep', '100']);
    await sb.monitor.launch({ id, runtime: sb.runtime, paths, tty: false, stdin: false, stdinOnce: false });
    await sb.runtime.start(id);
    await assert.rejects(sb.runtime.update(id, { pidsLimit: 50 }), { name: 'NotImplementedError', message: 'runsc does not implement "update"' });
    await sb.runtime.kill(id, 'SIGKILL');
    assert.equal(await sb.waitExit(id, paths), 137);
  });
});
