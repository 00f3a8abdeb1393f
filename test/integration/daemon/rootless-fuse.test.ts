/**
 * The rootless daemon with `--storage-driver fuse-overlayfs` (docs/rootless.md "Storage"): an
 * ordinary user the test creates (scripts/setup-rootless.sh) runs bin/berthd, which re-executes
 * itself in rootlesskit and mounts container rootfs with fuse-overlayfs; driven as root with the
 * stock CLI. Checks that fuse-overlayfs's own whiteout and opaque marks survive commit and diff.
 * Skipped with the reason where the host forbids user namespaces or lacks a tool.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CommandResult } from '../harness';
import { RootlessBerth, rootlessSkipReason, type DockerOptions } from '../rootless-daemon';

const SKIP = rootlessSkipReason(['fuse-overlayfs']) ?? (existsSync('/dev/fuse') ? undefined : 'no /dev/fuse (fuse-overlayfs needs it)');

describe('rootless berthd with --storage-driver fuse-overlayfs', { skip: SKIP }, () => {
  const rl = new RootlessBerth('berthfo', ['--storage-driver', 'fuse-overlayfs']);
  let base = '';
  const docker = (args: string[], opts?: DockerOptions): CommandResult => rl.docker(args, opts);
  const ok = (args: string[], opts?: DockerOptions): string => rl.ok(args, opts);

  before(async () => {
    await rl.start();
    ({ base } = rl);
  });
  after(() => rl.stop());

  it('reports fuse-overlayfs in docker info and runs containers on a fuse-overlayfs root', () => {
    const info = JSON.parse(ok(['info', '--format', '{{json .}}']));
    assert.equal(info.Driver, 'fuse-overlayfs');
    assert.equal(ok(['image', 'inspect', '-f', '{{.GraphDriver.Name}}', 'busybox']), 'fuse-overlayfs\n');
    assert.ok(info.SecurityOptions.includes('name=rootless'), JSON.stringify(info.SecurityOptions));
    assert.equal(ok(['run', '--rm', 'busybox', 'sh', '-c', 'echo hello; grep " / " /proc/self/mounts | cut -d" " -f3']), 'hello\nfuse.fuse-overlayfs\n');
    // A user other than the container's root reads and writes its root too (not only the mounter).
    assert.equal(ok(['run', '--rm', '--user', '1000:1000', 'busybox', 'sh', '-c', 'ls /bin/busybox && echo w > /tmp/f && cat /tmp/f']), '/bin/busybox\nw\n');
    const r = docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3, r.stderr);
  });

  it('builds with the classic builder, a replaced directory included', () => {
    const ctx = join(base, 'build');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), ['FROM busybox', 'RUN mkdir -p /d /keep && touch /d/a /d/b /keep/gone /keep/stays', 'RUN rm -rf /d && mkdir /d && touch /d/c', 'CMD ls /d'].join('\n') + '\n');
    ok(['build', '-q', '-t', 'fuse-built', ctx], { timeoutMs: 300_000 });
    assert.equal(ok(['run', '--rm', 'fuse-built']), 'c\n');
  });

  it('commits a deletion and a replaced directory, and diffs them like overlay2', () => {
    const id = ok(['create', 'fuse-built', 'sh', '-c', 'rm /keep/gone && rm -rf /d && mkdir /d && echo new > /d/n']).trim();
    assert.equal(ok(['inspect', '-f', '{{.Driver}} {{.GraphDriver.Name}}', id]), 'fuse-overlayfs fuse-overlayfs\n');
    ok(['start', '-a', id]);
    const diff = ok(['diff', id]).split('\n').filter(Boolean);
    for (const line of ['C /keep', 'D /keep/gone', 'D /d', 'A /d/n']) assert.ok(diff.includes(line), `${line} in docker diff:\n${diff.join('\n')}`);
    assert.ok(!diff.some((l) => l.includes('.wh.')), `no fuse-overlayfs bookkeeping in docker diff:\n${diff.join('\n')}`);
    ok(['commit', id, 'fuse-committed']);
    assert.equal(ok(['run', '--rm', 'fuse-committed', 'sh', '-c', 'ls -A /keep; echo --; ls -A /d; cat /d/n']), 'stays\n--\nn\nnew\n');
    ok(['rm', id]);
  });
});
