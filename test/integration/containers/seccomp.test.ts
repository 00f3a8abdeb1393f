import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';

/** `--security-opt seccomp=<file>` (the CLI sends the profile's JSON), as dockerd applies it. */
describe('containers: seccomp profiles', () => {
  let berth: Berth;
  let profile: string;
  before(async () => {
    berth = await startBerth();
    profile = join(berth.dir, 'no-chmod.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO' }] }));
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('filters the container and its execs with the given profile', () => {
    const r = berth.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; chmod 400 /']);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stderr, /chmod: \/: Operation not permitted/);
    berth.ok(['run', '-d', '--name', 'filtered', '--security-opt', `seccomp=${profile}`, 'busybox', 'sleep', '300']);
    const e = berth.docker(['exec', 'filtered', 'chmod', '400', '/']);
    assert.match(e.stderr, /Operation not permitted/);
  });

  it('runs unfiltered with seccomp=unconfined and when privileged', () => {
    assert.match(berth.ok(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+0/);
    assert.equal(berth.ok(['run', '--rm', '--privileged', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'chmod 755 / && echo ok']).trim(), 'ok');
  });
});
