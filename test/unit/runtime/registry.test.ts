import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { InvalidParameterError, UnavailableError } from '../../../src/errors';
import { hybridWrapperScript } from '../../../src/runtime/crun-hybrid';
import { MissingRuntime } from '../../../src/runtime/missing-runtime';
import { OciCli } from '../../../src/runtime/oci-cli';
import { RuntimeRegistry } from '../../../src/runtime/registry';

const run = promisify(execFile);

describe('RuntimeRegistry', () => {
  let dir: string;
  const bin = (name: string) => join(dir, name, 'bin');

  async function fakeBin(sub: string, names: string[]) {
    await mkdir(bin(sub), { recursive: true });
    for (const n of names) {
      await writeFile(join(bin(sub), n), '#!/bin/sh\nexit 0\n');
      await chmod(join(bin(sub), n), 0o755);
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
    await fakeBin('both', ['runc', 'crun']);
    await fakeBin('crun-only', ['crun']);
    await fakeBin('runc-only', ['runc']);
    await fakeBin('none', []);
    await mkdir(bin('tools'), { recursive: true });
    for (const [name, real] of [['unshare', '/usr/bin/unshare'], ['sh', '/bin/sh'], ['umount', '/bin/umount']]) {
      await symlink(real, join(bin('tools'), name));
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const create = (sub: string, extra: Partial<Parameters<typeof RuntimeRegistry.create>[0]> = {}) =>
    RuntimeRegistry.create({
      execRoot: join(dir, `exec-${sub}`),
      cgroupLayout: 'v1',
      searchPath: [bin(sub), bin('tools')],
      berthPath: join(dir, 'no-berth-runtime'),
      ...extra,
    });

  it('registers installed runc and crun, crun is the default, each with its own --root', async () => {
    const reg = await create('both');
    assert.equal(reg.defaultName, 'crun');
    assert.deepEqual(reg.list(), { crun: { path: join(bin('both'), 'crun') }, runc: { path: join(bin('both'), 'runc') } });
    const crun = reg.get('crun');
    assert.ok(crun instanceof OciCli);
    assert.equal(crun.path, join(bin('both'), 'crun'));
    assert.deepEqual(crun.globalArgs, ['--root', join(dir, 'exec-both', 'runtime-state', 'crun')]);
    assert.equal(reg.get().name, 'crun');
    assert.equal(reg.get('').name, 'crun');
  });

  it('prefers runc on a hybrid host where the crun wrapper cannot be made', async () => {
    const reg = await RuntimeRegistry.create({ execRoot: join(dir, 'exec-notools'), cgroupLayout: 'hybrid', searchPath: [bin('both')], berthPath: join(dir, 'no-berth-runtime') });
    assert.equal(reg.defaultName, 'runc');
    assert.equal((await create('both', { cgroupLayout: 'hybrid' })).defaultName, 'crun');
  });

  it('falls back to runc when crun is missing, to a stand-in when both are', async () => {
    assert.equal((await create('crun-only')).defaultName, 'crun');
    assert.equal((await create('runc-only')).defaultName, 'runc');
    const none = await create('none');
    assert.equal(none.defaultName, 'runc');
    assert.ok(none.get() instanceof MissingRuntime);
    await assert.rejects(none.get().state('c1'), UnavailableError);
  });

  it('lists the built-in berth runtime when built; it is the default only without runc and crun', async () => {
    const berthPath = join(bin('none'), 'berth-runtime-build');
    await writeFile(berthPath, '#!/bin/sh\nexit 0\n');
    await chmod(berthPath, 0o755);
    const alone = await create('none', { berthPath });
    assert.equal(alone.defaultName, 'berth');
    assert.deepEqual(alone.list(), { berth: { path: berthPath } });
    const berth = alone.get();
    assert.ok(berth instanceof OciCli);
    assert.equal(berth.path, berthPath);
    assert.deepEqual(berth.globalArgs, ['--root', join(dir, 'exec-none', 'runtime-state', 'berth')]);
    assert.equal(typeof berth.prepareBundle, 'function', 'the daemon writes its plan in-process');
    assert.equal(typeof berth.prepareProcess, 'function');
    const withRunc = await create('runc-only', { berthPath });
    assert.equal(withRunc.defaultName, 'runc');
    assert.deepEqual(Object.keys(withRunc.list()).sort(), ['berth', 'runc']);
    assert.equal(withRunc.get('runc').prepareBundle, undefined, 'other runtimes get no plan');
    assert.equal((await create('both', { berthPath })).defaultName, 'crun');
    assert.equal((await create('both', { berthPath, defaultRuntime: 'berth' })).defaultName, 'berth');
  });

  it('wraps crun (and only crun) on hybrid hosts; docker info still shows the real binary', async () => {
    const reg = await create('both', { cgroupLayout: 'hybrid' });
    const wrapper = join(dir, 'exec-both', 'runtimes', 'crun');
    assert.equal(reg.get('crun').path, wrapper);
    assert.equal(reg.get('crun').directPath, join(bin('both'), 'crun'), 'calls that set up no cgroup skip the wrapper');
    assert.equal(reg.get('runc').path, join(bin('both'), 'runc'));
    assert.equal(reg.get('runc').directPath, join(bin('both'), 'runc'));
    assert.equal(reg.list().crun.path, join(bin('both'), 'crun'));
    const script = await readFile(wrapper, 'utf8');
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.ok(script.includes(`'${join(bin('both'), 'crun')}' "$@"`));
  });

  it('adds configured runtimes; a missing binary becomes a stand-in that can still be looked up', async () => {
    const reg = await create('both', {
      configured: {
        custom: { path: join(bin('both'), 'runc'), runtimeArgs: ['--debug'] },
        kata: { path: '/nonexistent/kata-runtime' },
      },
    });
    // runtimeArgs first, as dockerd's wrapper script puts them: the daemon's --root always wins.
    assert.deepEqual(reg.get('custom').globalArgs, ['--debug', '--root', join(dir, 'exec-both', 'runtime-state', 'custom')]);
    assert.deepEqual(reg.list().custom, { path: join(bin('both'), 'runc'), runtimeArgs: ['--debug'] });
    assert.ok(reg.get('kata') instanceof MissingRuntime);
    assert.equal(reg.list().kata.path, '/nonexistent/kata-runtime');
  });

  it('shows a configured path as written; two names on one binary keep separate state', async () => {
    const reg = await create('both', { configured: { one: { path: 'runc' }, two: { path: 'runc' }, crun: { path: 'runc' } } });
    assert.deepEqual(reg.list().one, { path: 'runc' });
    assert.equal(reg.get('one').path, join(bin('both'), 'runc'));
    assert.deepEqual(reg.get('one').globalArgs, ['--root', join(dir, 'exec-both', 'runtime-state', 'one')]);
    assert.deepEqual(reg.get('two').globalArgs, ['--root', join(dir, 'exec-both', 'runtime-state', 'two')]);
    // A configured crun replaces the one found on the search path (dockerd has no crun of its own).
    assert.equal(reg.get('crun').path, join(bin('both'), 'runc'));
  });

  it('rejects unknown names like dockerd; existing containers get a stand-in instead', async () => {
    const reg = await create('both');
    assert.throws(() => reg.get('nope'), (err: unknown) => {
      assert.ok(err instanceof InvalidParameterError);
      assert.equal(err.message, 'unknown or invalid runtime name: nope');
      return true;
    });
    assert.ok(reg.forContainer('nope') instanceof MissingRuntime);
    assert.equal(reg.forContainer('crun').name, 'crun');
    await assert.rejects(create('both', { defaultRuntime: 'nope' }), InvalidParameterError);
    assert.equal((await create('both', { defaultRuntime: 'runc' })).defaultName, 'runc');
  });
});

describe('crun hybrid wrapper', () => {
  const skip = process.getuid?.() !== 0 ? 'needs root for a mount namespace' : undefined;

  it('runs the program without /sys/fs/cgroup/unified and passes arguments intact', { skip }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-wrapper-'));
    try {
      const fake = join(dir, "fake crun's");
      await writeFile(fake, '#!/bin/sh\ngrep -c " /sys/fs/cgroup/unified " /proc/self/mountinfo\nprintf "%s\\n" "$@"\n');
      await chmod(fake, 0o755);
      const wrapper = join(dir, 'wrapper');
      await writeFile(wrapper, hybridWrapperScript(fake, { unshare: '/usr/bin/unshare', sh: '/bin/sh', umount: '/bin/umount' }));
      await chmod(wrapper, 0o755);
      const { stdout } = await run(wrapper, ['state', 'a b', '$HOME', "it's"]).catch((e: { stdout: string }) => e);
      assert.equal(stdout, "0\nstate\na b\n$HOME\nit's\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
