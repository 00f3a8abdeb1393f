import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SECCOMP_BPF_ANNOTATION, SeccompFilterCache, type SeccompSpec } from '../../../src/runtime/seccomp-filter-cache';

const profile = (allow: string[]) => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: allow, action: 'SCMP_ACT_ALLOW' }] });

describe('SeccompFilterCache', () => {
  it('hands the filter crun compiled for a profile to later creates of the same profile only', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'berth-seccomp-cache-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const cache = new SeccompFilterCache(root);
    const bpf = Buffer.alloc(16, 7);
    const compiledBy = async (id: string, data: Buffer) => {
      await mkdir(join(root, id), { recursive: true });
      await writeFile(join(root, id, 'seccomp.bpf'), data);
    };

    const first: SeccompSpec = { linux: { seccomp: profile(['read']) } };
    cache.prepare('c1', first);
    assert.equal(first.annotations, undefined, 'nothing compiled yet: crun compiles');
    await compiledBy('c1', bpf);
    await cache.created('c1');

    const second: SeccompSpec = { linux: { seccomp: profile(['read']) }, annotations: { other: 'x' } };
    cache.prepare('c2', second);
    assert.deepEqual(second.annotations, { other: 'x', [SECCOMP_BPF_ANNOTATION]: bpf.toString('base64') });

    const otherProfile: SeccompSpec = { linux: { seccomp: profile(['read', 'write']) } };
    cache.prepare('c3', otherProfile);
    assert.equal(otherProfile.annotations, undefined, 'another profile is compiled by crun');

    const unconfined: SeccompSpec = { linux: {} };
    cache.prepare('c4', unconfined);
    assert.equal(unconfined.annotations, undefined);

    // A user's own filter stays; a failed create, a missing or torn file teach nothing.
    const own: SeccompSpec = { linux: { seccomp: profile(['read']) }, annotations: { [SECCOMP_BPF_ANNOTATION]: 'mine' } };
    cache.prepare('c5', own);
    assert.equal(own.annotations?.[SECCOMP_BPF_ANNOTATION], 'mine');
    cache.forget('c3');
    await compiledBy('c3', bpf);
    await cache.created('c3');
    const torn: SeccompSpec = { linux: { seccomp: profile(['write']) } };
    cache.prepare('c6', torn);
    await compiledBy('c6', Buffer.alloc(5));
    await cache.created('c6');
    for (const seccomp of [profile(['read', 'write']), profile(['write'])]) {
      const spec: SeccompSpec = { linux: { seccomp } };
      cache.prepare('c7', spec);
      assert.equal(spec.annotations, undefined);
    }
  });
});
