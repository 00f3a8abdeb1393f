import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { holdsFor, waitFor } from '../../integration/wait';
import { ExitWatcher, readExitFile, watchExit } from '../../../src/runtime/exit-watcher';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exit watcher', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-exits-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads exit files; missing or incomplete means not exited', async () => {
    assert.equal(await readExitFile(dir, 'none'), undefined);
    await writeFile(join(dir, 'empty'), '');
    assert.equal(await readExitFile(dir, 'empty'), undefined);
    await writeFile(join(dir, 'done'), '137');
    assert.equal(await readExitFile(dir, 'done'), 137);
  });

  it('reports at once for a container that exited before the watch (e.g. under an earlier daemon)', async () => {
    await writeFile(join(dir, 'old'), '3');
    const code = await new Promise<number>((resolve) => watchExit(dir, 'old', resolve));
    assert.equal(code, 3);
  });

  it("reports promptly when conmon renames <id>.tmp to <id>, without waiting for the poll", async () => {
    const t0 = Date.now();
    const got = new Promise<number>((resolve) => watchExit(dir, 'later', resolve));
    // The watch is set up asynchronously and says nothing when it is: a short head start.
    await delay(50);
    await writeFile(join(dir, 'later.tmp'), '143');
    await rename(join(dir, 'later.tmp'), join(dir, 'later'));
    assert.equal(await got, 143);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  });

  it('serves many containers from one watcher and calls each callback once; close cancels', async () => {
    const w = new ExitWatcher(dir, { pollIntervalMs: 100 });
    const calls: string[] = [];
    w.watch('a', (c) => calls.push(`a${c}`));
    w.watch('a', (c) => calls.push(`a'${c}`));
    w.watch('b', (c) => calls.push(`b${c}`));
    const cancel = w.watch('c', (c) => calls.push(`c${c}`));
    cancel();
    await writeFile(join(dir, 'a'), '0');
    await writeFile(join(dir, 'c'), '1');
    await waitFor(() => calls.length >= 2, { what: "a's two callbacks" });
    // No call for c (cancelled), none again for a: watched over three poll intervals.
    const onlyA = () => JSON.stringify([...calls].sort()) === JSON.stringify(['a0', "a'0"].sort());
    await holdsFor(onlyA, { what: 'only a was reported', duration: 300 });
    await writeFile(join(dir, 'a'), '9'); // a rewrite must not call again
    await holdsFor(onlyA, { what: 'a rewrite does not call again', duration: 300 });
    w.close();
    await writeFile(join(dir, 'b'), '2');
    await holdsFor(onlyA, { what: 'close cancels b', duration: 300 });
  });

  it('creates a missing exit directory and still sees the exit', async () => {
    const sub = join(dir, 'not-yet');
    const got = new Promise<number>((resolve) => watchExit(sub, 'x', resolve));
    await waitFor(() => existsSync(sub), { what: 'the watcher to create the directory' });
    await writeFile(join(sub, 'x'), '5');
    assert.equal(await got, 5);
  });
});
