import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandThread } from '../../../src/host/command-thread';
import type { CommandJob, JobOutcome } from '../../../src/host/command-thread-protocol';

const sh = (script: string): CommandJob => ({ kind: 'run', program: '/bin/sh', argv: ['-c', script], env: { PATH: '/bin:/usr/bin' }, maxOutputBytes: 4096 });
const stdout = (o: JobOutcome) => (o.kind === 'exited' ? o.stdout : `(${o.kind})`);

describe('CommandThread', () => {
  it('answers every job while workers are retired and replaced under load', async () => {
    const thread = new CommandThread(undefined, 3);
    try {
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => thread.submit(sh(`echo ${i}`))));
      assert.deepEqual(outcomes.map(stdout), Array.from({ length: 10 }, (_, i) => `${i}\n`));
      for (let i = 0; i < 7; i++) assert.equal(stdout(await thread.submit(sh(`echo again ${i}`))), `again ${i}\n`);
    } finally {
      await thread.close();
    }
  });

  it('aborts a job that still runs on a retired worker', async () => {
    const thread = new CommandThread(undefined, 2);
    try {
      const abort = new AbortController();
      const slow = thread.submit(sh('echo started; exec sleep 30'), abort.signal);
      // Two more jobs retire the slow job's worker; the third goes to a fresh one.
      for (let i = 0; i < 3; i++) assert.equal(stdout(await thread.submit(sh('echo ok'))), 'ok\n');
      abort.abort();
      const outcome = await slow;
      assert.equal(outcome.kind, 'exited');
      assert.equal(outcome.kind === 'exited' && outcome.signal, 'SIGKILL');
    } finally {
      await thread.close();
    }
  });
});
