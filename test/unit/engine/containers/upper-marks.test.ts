import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { computeChanges } from '../../../../src/engine/containers/archive/changes';

/** An upper dir as fuse-overlayfs 1.10 leaves it (seen in a user namespace): see upper-marks.ts. */
async function fuseUpper(): Promise<{ dir: string; lower: string; upper: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-fuse-marks-'));
  const lower = join(dir, 'lower');
  const upper = join(dir, 'upper');
  await mkdir(join(lower, 'd'), { recursive: true });
  await mkdir(join(lower, 'keep'), { recursive: true });
  for (const f of ['d/a', 'keep/gone', 'keep/filegone', 'x']) await writeFile(join(lower, f), 'l');
  await mkdir(join(upper, 'd'), { recursive: true });
  await mkdir(join(upper, 'keep'), { recursive: true });
  await writeFile(join(upper, 'd', 'n'), 'n');
  await writeFile(join(upper, 'd', '.wh..wh..opq'), '');
  execFileSync('mknod', [join(upper, 'd', '.wh..opq'), 'c', '0', '0']);
  execFileSync('mknod', [join(upper, 'keep', 'gone'), 'c', '0', '0']);
  await writeFile(join(upper, 'keep', '.wh.filegone'), ''); // where it cannot make a device
  return { dir, lower, upper };
}

describe('fuse-overlayfs upper dirs', () => {
  it('diffs its whiteouts and opaque dirs like overlay2 and hides its bookkeeping', async () => {
    const { dir, lower, upper } = await fuseUpper();
    const opaque = join(upper, 'd');
    const getXattr = async (p: string, name: string) => (p === opaque && name === 'user.fuseoverlayfs.opaque' ? Buffer.from('y') : undefined);
    assert.deepEqual(await computeChanges(upper, [lower], { getXattr, driver: 'fuse-overlayfs' }), [
      { Path: '/d', Kind: 2 },
      { Path: '/d/n', Kind: 1 },
      { Path: '/keep', Kind: 0 },
      { Path: '/keep/filegone', Kind: 2 },
      { Path: '/keep/gone', Kind: 2 },
    ]);
    // The `.wh..wh..opq` file alone marks it opaque too (a filesystem without user xattrs).
    const noXattr = await computeChanges(upper, [lower], { getXattr: async () => undefined, driver: 'fuse-overlayfs' });
    assert.deepEqual(noXattr.filter((c) => c.Path.startsWith('/d')), [{ Path: '/d', Kind: 2 }, { Path: '/d/n', Kind: 1 }]);
    await rm(dir, { recursive: true, force: true });
  });
});
