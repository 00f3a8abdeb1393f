/**
 * Runtime against runtime: `docker run --rm --network none --runtime <r> busybox true` through
 * one Berth daemon for each installed runtime (runc, crun, runsc where it runs, Berth's own
 * `berth`), and each runtime's bare floor with no engine at all: `create` + `start` + wait for
 * the exit + `delete` of a bundle whose process is `true`. Prints medians and ratios to crun.
 *
 *   node dist/bench/runtimes.js [N] [--floor-only 1]
 *
 * The berth floor is its executor alone: the bundle's plan is compiled beforehand, as the daemon
 * does when it writes a bundle. Needs root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciSpec } from '../src/engine/containers/oci-spec';
import { detectCgroupLayout } from '../src/runtime/cgroups';
import { RuntimeRegistry } from '../src/runtime/registry';
import { BERTH_RUNTIME_PATH } from '../src/runtime/builtin/runtime-entry';
import { currentPlanHost, writeBundlePlan } from '../src/runtime/builtin/plan-files';
import { BUSYBOX_PATH } from '../test/fixtures/busybox-image';
import { parseBenchArgs, runBench } from './cli';
import { inSession } from './session';
import { median, percentile } from './stats';

const WARMUP = 2;
/** For sub-millisecond pauses while polling a pid (Atomics.wait on a buffer nobody notifies). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
const RUNTIMES: Array<[string, string]> = [['runc', '/usr/sbin/runc'], ['crun', '/usr/bin/crun'], ['runsc', '/usr/bin/runsc'], ['berth', BERTH_RUNTIME_PATH]];

const installed = () => RUNTIMES.filter(([, path]) => existsSync(path));

function row(name: string, samples: number[], base?: number): string {
  const m = median(samples);
  const ratio = base ? (m / base).toFixed(2) : '-';
  return `${name.padEnd(8)} | ${m.toFixed(1).padStart(8)} | ${percentile(samples, 90).toFixed(1).padStart(8)} | ${Math.min(...samples).toFixed(1).padStart(8)} | ${ratio.padStart(9)}`;
}

function table(title: string, results: Map<string, number[]>): void {
  console.log(`\n${title}\nruntime  | median ms |   p90 ms |   min ms | x crun`);
  const base = results.has('crun') ? median(results.get('crun')!) : undefined;
  for (const [name, samples] of results) console.log(row(name, samples, base));
}

/** A `true` bundle on a busybox rootfs, the spec as Berth writes it, minus seccomp and network setup. */
function makeBundle(dir: string, cgroupVersion: 1 | 2): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  writeFileSync(join(rootfs, 'bin/busybox'), readFileSync(BUSYBOX_PATH), { mode: 0o755 });
  symlinkSync('busybox', join(rootfs, 'bin/true'));
  for (const d of ['proc', 'sys', 'dev', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  const bundle = join(dir, 'bundle');
  mkdirSync(bundle);
  const spec = buildOciSpec({
    id: 'floor', rootfs, readonlyRootfs: false, args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] },
    tty: false, hostname: 'floor', privileged: false, capAdd: [], capDrop: [], shmSize: 64 << 20, extraMounts: [], hostNetwork: true,
    cgroupsPath: `/berth-bench-floor/${process.pid}`, cgroupVersion,
  });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}

/** No pipes: the container's init inherits create's stdio and would hold a pipe open until it exits. */
function sh(program: string, args: string[]): void {
  const r = spawnSync(program, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${r.status ?? r.signal}); run it by hand to see why`);
}

/** create + start + wait + delete, once; ms. */
function floorOnce(path: string, root: string, bundle: string, i: number): number {
  const id = `floor-${i}`;
  const pidFile = join(root, `${id}.pid`);
  const t0 = process.hrtime.bigint();
  sh(path, ['--root', root, 'create', '--bundle', bundle, '--pid-file', pidFile, id]);
  sh(path, ['--root', root, 'start', id]);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  // The init was reparented to PID 1 (or a subreaper), which reaps it: wait until it is gone.
  for (;;) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) break;
    } catch {
      break;
    }
    Atomics.wait(PAUSE, 0, 0, 0.2);
  }
  sh(path, ['--root', root, 'delete', '--force', id]);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function floors(runs: number): Promise<Map<string, number[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-floor-'));
  const results = new Map<string, number[]>();
  try {
    const layout = detectCgroupLayout();
    const bundle = makeBundle(dir, layout === 'v2' ? 2 : 1);
    // The programs Berth runs: on a hybrid host crun only works through its wrapper.
    const registry = await RuntimeRegistry.create({ execRoot: join(dir, 'exec'), cgroupLayout: layout });
    const runtimes = installed().filter(([n]) => registry.has(n)).map(([n]): [string, string] => [n, registry.get(n).path]);
    if (runtimes.some(([n]) => n === 'berth')) await writeBundlePlan(bundle, currentPlanHost());
    for (const [name] of runtimes) results.set(name, []);
    for (let i = 0; i < runs + WARMUP; i++) {
      const order = i % 2 === 0 ? runtimes : [...runtimes].reverse();
      for (const [name, path] of order) {
        // runsc's floor needs its own network setup and is not comparable here.
        if (name === 'runsc') continue;
        const ms = floorOnce(path, join(dir, `root-${name}`), bundle, i);
        if (i >= WARMUP) results.get(name)!.push(ms);
      }
      process.stdout.write(`\rbare runtime floor: run ${i + 1}/${runs + WARMUP}`);
    }
    results.delete('runsc');
    process.stdout.write('\n');
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const h of readdirSync('/sys/fs/cgroup')) {
      for (const d of [`/sys/fs/cgroup/${h}/berth-bench-floor/${process.pid}`, `/sys/fs/cgroup/${h}/berth-bench-floor`]) if (existsSync(d)) spawnSync('rmdir', [d]);
    }
  }
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/runtimes.js [N] [--floor-only 1]', 20, { 'floor-only': 0 });
  table(`bare runtime floor (create+start+wait+delete of \`true\`, no engine), ${opts.runs} runs after ${WARMUP} warm-up`, await floors(opts.runs));
  if (opts.counts['floor-only']) return 0;
  const runsc = existsSync('/usr/bin/runsc') ? ' --add-runtime runsc=/usr/bin/runsc' : '';
  process.env.BERTH_BENCH_DAEMON_ARGS = `${process.env.BERTH_BENCH_DAEMON_ARGS ?? ''}${runsc}`;
  return inSession('berth', async (session) => {
    const d = session.daemons[0];
    const results = new Map<string, number[]>();
    for (const [name] of installed()) {
      const args = ['run', '--rm', '--network', 'none', '--runtime', name, 'busybox', 'true'];
      const probe = await d.docker(args, 120_000);
      if (probe.code !== 0) {
        console.log(`${name}: skipped, docker run fails: ${probe.stderr.trim().split('\n').pop()}`);
        continue;
      }
      results.set(name, []);
    }
    for (let i = 0; i < opts.runs + WARMUP; i++) {
      const names = [...results.keys()];
      for (const name of i % 2 === 0 ? names : names.reverse()) {
        const { ms } = await d.dockerOk(['run', '--rm', '--network', 'none', '--runtime', name, 'busybox', 'true'], 120_000);
        if (i >= WARMUP) results.get(name)!.push(ms);
      }
      process.stdout.write(`\rdocker run --rm per runtime: run ${i + 1}/${opts.runs + WARMUP}`);
    }
    process.stdout.write('\n');
    table(`docker run --rm --network none --runtime <r> busybox true (Berth), ${opts.runs} runs after ${WARMUP} warm-up`, results);
  });
}

if (require.main === module) runBench(main);
