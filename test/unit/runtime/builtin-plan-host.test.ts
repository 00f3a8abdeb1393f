/**
 * The plan compiler against this host's kernel and runc: the `cgroup` and `cgroup-write` records
 * of a spec as Berth writes it are applied to a scratch cgroup (as the executor applies them: all
 * mkdirs, then the writes in order), and every file they touch must read back what runc leaves
 * for the same spec. Needs root and runc; the scratch cgroups are removed afterwards.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildOciSpec } from '../../../src/engine/containers/oci-spec';
import { detectCgroupHost } from '../../../src/runtime/builtin/cgroup-host';
import { compileBundlePlan } from '../../../src/runtime/builtin/plan-compiler';

const run = promisify(execFile);
const RUNC = '/usr/sbin/runc';
const skip = process.getuid?.() !== 0 ? 'needs root' : !existsSync(RUNC) ? 'needs runc' : !existsSync('/bin/busybox') ? 'needs busybox-static' : false;

describe('builtin runtime plan on this host', { skip }, () => {
  it("writes the cgroup files runc writes for the same spec, and the kernel takes every write", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-plan-host-'));
    const parent = `/berth-plan-test-${process.pid}`;
    const host = detectCgroupHost();
    const spec = (cgroupsPath: string) =>
      buildOciSpec({
        id: 'x', rootfs: join(dir, 'rootfs'), readonlyRootfs: false, args: ['/bin/busybox', 'true'], env: ['PATH=/bin'], cwd: '/',
        user: { uid: 0, gid: 0, additionalGids: [] }, tty: false, hostname: 'x', privileged: false, capAdd: [], capDrop: [],
        shmSize: 64 << 20, extraMounts: [], hostNetwork: true, cgroupsPath, cgroupVersion: host.layout === 'v2' ? 2 : 1,
        resources: { memory: 100 << 20, memorySwap: 200 << 20, cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, pidsLimit: 50, cpusetCpus: '0' },
      });
    const mine = compileBundlePlan(spec(`${parent}/mine`), dir, { cgroup: host }).plan.split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'));
    const dirs = mine.filter((r) => r[0] === 'cgroup').map((r) => r[1]);
    const writes = mine.filter((r) => r[0] === 'cgroup-write');
    try {
      for (const d of dirs) mkdirSync(d, { recursive: true });
      for (const [, d, file, value] of writes) writeFileSync(join(d, file), value);

      mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
      for (const d of ['proc', 'sys', 'dev']) mkdirSync(join(dir, 'rootfs', d));
      writeFileSync(join(dir, 'rootfs/bin/busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
      await writeFile(join(dir, 'config.json'), JSON.stringify(spec(`${parent}/runc`)));
      spawnSync(RUNC, ['--root', join(dir, 'state'), 'create', '--bundle', dir, 'plan-host'], { stdio: 'ignore' });
      try {
        const checked = new Set<string>();
        for (const [, d, file] of writes) {
          if (file === 'cgroup.subtree_control' || !d.endsWith('/mine')) continue;
          const read = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean).sort();
          const theirs = d.replace(/\/mine$/, '/runc');
          if (file === 'devices.allow' || file === 'devices.deny') {
            assert.deepEqual(read(join(d, 'devices.list')), read(join(theirs, 'devices.list')), 'the same device rules');
          } else {
            assert.deepEqual(read(join(d, file)), read(join(theirs, file)), file);
          }
          checked.add(file);
        }
        assert.ok(checked.has('pids.max') && checked.size >= 5, [...checked].join(' '));
      } finally {
        await run(RUNC, ['--root', join(dir, 'state'), 'delete', '--force', 'plan-host']).catch(() => undefined);
      }
    } finally {
      for (const d of [...dirs].reverse()) {
        for (const p of [d, d.replace(/\/mine$/, '/runc'), d.replace(/\/mine$/, '')]) if (existsSync(p)) rmdirSync(p);
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});
