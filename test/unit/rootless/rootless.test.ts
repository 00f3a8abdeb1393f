import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { parseArgs } from '../../../src/config';
import { isInitialUidMap } from '../../../src/host/userns';
import { rootlessLayout, RootlessError } from '../../../src/rootless/layout';
import { rootlessPreflight } from '../../../src/rootless/preflight';
import { rootlessKitFlags } from '../../../src/rootless/reexec';
import { subIdCount } from '../../../src/rootless/subids';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('rootless layout (dockerd rootless: $XDG_RUNTIME_DIR, ~/.local/share, ~/.config)', () => {
  it('puts socket, exec root and pid file in XDG_RUNTIME_DIR, data and config under HOME', () => {
    const l = rootlessLayout({ XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/u' });
    assert.deepEqual(l, {
      runtimeDir: '/run/user/1000',
      host: 'unix:///run/user/1000/berth.sock',
      execRoot: '/run/user/1000/berth',
      pidFile: '/run/user/1000/berth.pid',
      dataRoot: '/home/u/.local/share/berth',
      configFile: '/home/u/.config/berth/daemon.json',
      stateDir: '/run/user/1000/berth-rootlesskit',
    });
  });

  it('honours XDG_DATA_HOME and XDG_CONFIG_HOME', () => {
    const l = rootlessLayout({ XDG_RUNTIME_DIR: '/r', HOME: '/h', XDG_DATA_HOME: '/d', XDG_CONFIG_HOME: '/c' });
    assert.equal(l.dataRoot, '/d/berth');
    assert.equal(l.configFile, '/c/berth/daemon.json');
  });

  it('refuses to guess without XDG_RUNTIME_DIR', () => {
    assert.throws(() => rootlessLayout({ HOME: '/h' }), (err: Error) => err instanceof RootlessError && /XDG_RUNTIME_DIR needs to be set/.test(err.message));
  });

  it('gives the defaults to parseArgs, flags and the user daemon.json still win', (t) => {
    const dir = tempDir(t);
    const l = rootlessLayout({ XDG_RUNTIME_DIR: join(dir, 'run'), HOME: dir });
    const defaults = { host: l.host, dataRoot: l.dataRoot, execRoot: l.execRoot, pidFile: l.pidFile, configFile: l.configFile, rootless: { stateDir: l.stateDir } };
    const plain = parseArgs([], defaults);
    assert.equal(plain.kind, 'run');
    if (plain.kind !== 'run') return;
    assert.deepEqual(plain.config.hosts, [l.host]);
    assert.equal(plain.config.dataRoot, l.dataRoot);
    assert.equal(plain.config.pidFile, l.pidFile);
    assert.equal(plain.config.group, '');
    assert.deepEqual(plain.config.rootless, { stateDir: l.stateDir });
    mkdirSync(join(dir, '.config/berth'), { recursive: true });
    writeFileSync(l.configFile, JSON.stringify({ 'data-root': '/from/file' }));
    const fromFile = parseArgs([], defaults);
    assert.equal(fromFile.kind === 'run' && fromFile.config.dataRoot, '/from/file');
    const fromFlag = parseArgs(['--data-root', '/from/flag'], defaults);
    assert.equal(fromFlag.kind === 'run' && fromFlag.config.dataRoot, '/from/flag');
    const rootful = parseArgs([]);
    assert.equal(rootful.kind === 'run' && rootful.config.rootless, undefined);
  });
});

describe('rootless preflight', () => {
  const setUp = (t: TestContext, opts: { programs?: string[]; subuid?: string; subgid?: string } = {}) => {
    const dir = tempDir(t);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const p of opts.programs ?? ['rootlesskit', 'slirp4netns', 'newuidmap', 'newgidmap']) {
      writeFileSync(join(bin, p), '#!/bin/sh\n');
      chmodSync(join(bin, p), 0o755);
    }
    writeFileSync(join(dir, 'subuid'), opts.subuid ?? 'u:100000:65536\n');
    writeFileSync(join(dir, 'subgid'), opts.subgid ?? '1000:100000:65536\n');
    const layout = rootlessLayout({ XDG_RUNTIME_DIR: dir, HOME: dir });
    return () => rootlessPreflight(layout, { env: { PATH: bin }, user: { name: 'u', id: 1000 }, subuidFile: join(dir, 'subuid'), subgidFile: join(dir, 'subgid') });
  };

  it('passes and returns the programs found', (t) => {
    assert.match(setUp(t)().rootlesskit, /\/bin\/rootlesskit$/);
  });

  it('names a missing program and its Debian package', (t) => {
    assert.throws(setUp(t, { programs: ['rootlesskit', 'slirp4netns'] }), /newuidmap not found in PATH: install Debian's uidmap package/);
    assert.throws(setUp(t, { programs: ['newuidmap', 'newgidmap', 'slirp4netns'] }), /rootlesskit not found in PATH: install Debian's rootlesskit package/);
  });

  it('names a missing subordinate id range', (t) => {
    assert.throws(setUp(t, { subuid: 'other:100000:65536\n' }), /no subordinate uid range for user u in .*subuid: root sets this up once with: bash scripts\/setup-rootless.sh/);
    assert.throws(setUp(t, { subgid: '' }), /no subordinate gid range for user u/);
  });
});

describe('subordinate id files', () => {
  it('counts the ids of the user by name or uid, skipping empty ranges', (t) => {
    const file = join(tempDir(t), 'subuid');
    writeFileSync(file, 'u:100000:65536\n1000:200000:10\nother:1:5\nu:5:0\n');
    assert.equal(subIdCount(file, { name: 'u', id: 1000 }), 65546);
    assert.equal(subIdCount(file, { name: 'x', id: 7 }), 0);
    assert.equal(subIdCount(join(file, 'missing'), { name: 'u', id: 1000 }), 0);
  });
});

describe('rootlesskit flags', () => {
  it("are dockerd-rootless.sh's, with host loopback reachable and the state dir", () => {
    const flags = rootlessKitFlags(rootlessLayout({ XDG_RUNTIME_DIR: '/r', HOME: '/h' }));
    for (const f of ['--net=slirp4netns', '--mtu=65520', '--disable-host-loopback=false', '--port-driver=builtin', '--copy-up=/etc', '--copy-up=/run', '--propagation=rslave']) {
      assert.ok(flags.includes(f), f);
    }
    assert.ok(flags.includes('--state-dir=/r/berth-rootlesskit'));
  });
});

describe('user namespace detection', () => {
  it('sees the initial namespace only in the full identity map', () => {
    assert.equal(isInitialUidMap('         0          0 4294967295\n'), true);
    assert.equal(isInitialUidMap('0 1000 1\n1 100000 65536\n'), false);
    assert.equal(isInitialUidMap('0 0 65536\n'), false);
    assert.equal(isInitialUidMap(undefined), true);
  });
});
