import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ConfigError, parseArgs } from '../../../src/config';
import type { StorageDriverName } from '../../../src/host/overlay-driver';
import { chooseStorageDriver, StorageDriverError, type StorageChoiceInput } from '../../../src/rootless/storage-driver';

describe('--storage-driver (dockerd rootless: overlay2 or fuse-overlayfs)', () => {
  const driver = (args: string[]) => {
    const r = parseArgs(args);
    return r.kind === 'run' ? r.config.storageDriver : assert.fail('expected a run config');
  };

  it('reads the flag, -s, or daemon.json storage-driver (the flag wins); unset stays unset', (t: TestContext) => {
    assert.equal(driver([]), undefined);
    assert.equal(driver(['--storage-driver', 'fuse-overlayfs']), 'fuse-overlayfs');
    assert.equal(driver(['-s', 'overlay2']), 'overlay2');
    const dir = mkdtempSync(join(tmpdir(), 'berth-sd-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'storage-driver': 'fuse-overlayfs' }));
    assert.equal(driver(['--config-file', file]), 'fuse-overlayfs');
    assert.equal(driver(['--config-file', file, '--storage-driver=overlay2']), 'overlay2');
  });

  it('refuses a driver Berth does not have, in dockerd\'s words', () => {
    assert.throws(() => parseArgs(['--storage-driver', 'btrfs']), (err: Error) => err instanceof ConfigError && /driver not supported: btrfs/.test(err.message));
  });
});

describe('chooseStorageDriver', () => {
  const logged: string[] = [];
  const log = { info: (..._a: unknown[]) => undefined, warn: (_o: unknown, msg?: string) => void logged.push(String(msg)) } as unknown as StorageChoiceInput['log'];
  const probes = (failing: Partial<Record<StorageDriverName, string>>) => {
    const asked: StorageDriverName[] = [];
    return { asked, probe: async (_dir: string, d: StorageDriverName) => (asked.push(d), failing[d]) };
  };

  it('uses overlay2 without probing outside a user namespace', async () => {
    const p = probes({});
    assert.equal(await chooseStorageDriver({ inUserNs: false, dataRoot: '/d', log, probe: p.probe }), 'overlay2');
    assert.deepEqual(p.asked, []);
  });

  it('keeps native overlayfs in a user namespace when it mounts', async () => {
    const p = probes({});
    assert.equal(await chooseStorageDriver({ inUserNs: true, dataRoot: '/d', log, probe: p.probe, fuseInstalled: () => true }), 'overlay2');
    assert.deepEqual(p.asked, ['overlay2']);
  });

  it('falls back to fuse-overlayfs with a log line when overlayfs cannot mount', async () => {
    const p = probes({ overlay2: 'permission denied' });
    logged.length = 0;
    assert.equal(await chooseStorageDriver({ inUserNs: true, dataRoot: '/d', log, probe: p.probe, fuseInstalled: () => true }), 'fuse-overlayfs');
    assert.deepEqual(p.asked, ['overlay2', 'fuse-overlayfs']);
    assert.match(logged.join('\n'), /using the fuse-overlayfs storage driver/);
  });

  it('fails the start clearly when neither works', async () => {
    await assert.rejects(chooseStorageDriver({ inUserNs: true, dataRoot: '/d', log, probe: probes({ overlay2: 'nope' }).probe, fuseInstalled: () => false }), (err: Error) => err instanceof StorageDriverError && /fuse-overlayfs is not installed/.test(err.message));
    await assert.rejects(chooseStorageDriver({ inUserNs: true, dataRoot: '/d', log, probe: probes({ overlay2: 'nope', 'fuse-overlayfs': 'no /dev/fuse' }).probe, fuseInstalled: () => true }), /nor fuse-overlayfs \(no \/dev\/fuse\)/);
  });

  it('checks a configured driver and fails with why', async () => {
    const p = probes({});
    assert.equal(await chooseStorageDriver({ configured: 'fuse-overlayfs', inUserNs: true, dataRoot: '/d', log, probe: p.probe, fuseInstalled: () => true }), 'fuse-overlayfs');
    assert.deepEqual(p.asked, ['fuse-overlayfs']);
    await assert.rejects(chooseStorageDriver({ configured: 'fuse-overlayfs', inUserNs: true, dataRoot: '/d', log, probe: p.probe, fuseInstalled: () => false }), /not installed/);
    await assert.rejects(chooseStorageDriver({ configured: 'overlay2', inUserNs: true, dataRoot: '/d', log, probe: probes({ overlay2: 'EPERM' }).probe }), /storage driver overlay2 cannot mount under \/d: EPERM/);
  });
});
