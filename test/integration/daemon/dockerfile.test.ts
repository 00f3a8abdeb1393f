/**
 * The repository's Dockerfile builds Berth's image with Berth itself, from a base made on this
 * machine: a Debian 12 root made by debootstrap from the host's apt mirror, `docker import`ed,
 * then `docker build` (the classic builder) and `docker run --privileged` of the result, whose
 * berthd must answer on a socket in a bind-mounted directory.
 *
 * The base already holds the Debian packages the Dockerfile's stages install (the Dockerfile still
 * runs its apt-get update and install, which then find them present), so a run commits small
 * layers rather than a compiler and a container stack. The base tarball is cached outside the
 * clone (BERTH_TEST_CACHE, default /var/cache/berth-test) because making it takes minutes; its
 * name carries a hash of the package list, and deleting it rebuilds it. Skipped where
 * debootstrap is missing (test/run.sh installs it). Inside the build, apt and npm reach Debian's
 * archive and the npm registry over Berth's bridge NAT, as the host does (no --network host);
 * npm trusts the CA certificates the host added to its store, for networks that re-sign TLS.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { DOCKER, ping, startBerth, type Berth } from '../harness';

const REPO = resolve(__dirname, '..', '..', '..', '..');
const CACHE = process.env.BERTH_TEST_CACHE ?? '/var/cache/berth-test';
/** What the Dockerfile's stages apt-get install, read from its `apt-get install` lines. */
const BASE_PACKAGES = [
  ...new Set(
    readFileSync(join(REPO, 'Dockerfile'), 'utf8')
      .split('\n')
      .flatMap((line) => line.split('apt-get install').slice(1).flatMap((rest) => rest.split(/&&|\\/)[0].trim().split(/\s+/)))
      .filter((word) => word && !word.startsWith('-')),
  ),
].sort();
const BASE_TARBALL = join(CACHE, `debian-bookworm-berth-${createHash('sha256').update(BASE_PACKAGES.join(' ')).digest('hex').slice(0, 12)}.tar.gz`);
const DEBOOTSTRAP = ['/usr/sbin/debootstrap', '/usr/bin/debootstrap'].find((p) => existsSync(p));
const BASE_TAG = 'berth-test/debian:bookworm';
const IMAGE_TAG = 'berth-test/berth:dockerfile';
const MINUTE = 60_000;

/** The host's Debian mirror (deb822 `URIs:` or a one-line `deb` entry), so no other is asked. */
function debianMirror(): string {
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d')) if (/\.(sources|list)$/.test(f)) files.push(join('/etc/apt/sources.list.d', f));
  }
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const block of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(block)?.[1];
      if (uri && /^Suites:.*\bbookworm\b/m.test(block) && !/security/.test(uri)) return uri;
    }
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (line) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

/**
 * The CA certificates added to this host's trust store (Debian: /usr/local/share/ca-certificates),
 * for the Dockerfile's EXTRA_CA_CERTS: where a proxy re-signs TLS, npm in the build must trust
 * what the host trusts.
 */
function extraCaArgs(): string[] {
  const dir = '/usr/local/share/ca-certificates';
  if (!existsSync(dir)) return [];
  const pems = readdirSync(dir).filter((f) => f.endsWith('.crt')).map((f) => readFileSync(join(dir, f), 'utf8').trim());
  return pems.length ? ['--build-arg', `EXTRA_CA_CERTS=${pems.join('\n')}`] : [];
}

function run(cmd: string, args: string[], minutes: number): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: minutes * MINUTE });
  assert.equal(r.status, 0, `${cmd} ${args.slice(0, 3).join(' ')} failed: ${r.error?.message ?? ''}${r.stderr}${(r.stdout ?? '').slice(-2000)}`);
}

/**
 * Makes the cached base tarball unless it is there already: a minbase root, the Dockerfile's
 * packages installed in it by its own apt (debootstrap's --include cannot choose among a virtual
 * package's providers), then cleaned as Debian's published images are (no package lists, no
 * downloaded packages, apt told to keep neither).
 */
function ensureBaseTarball(): void {
  if (existsSync(BASE_TARBALL)) return;
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, 'debootstrap-'));
  try {
    const root = join(work, 'root');
    run(DEBOOTSTRAP!, ['--variant=minbase', 'bookworm', root, debianMirror()], 30);
    run('chroot', [root, 'apt-get', 'install', '-y', '-q', '--no-install-recommends', ...BASE_PACKAGES], 30);
    run('chroot', [root, 'apt-get', 'clean'], 1);
    rmSync(join(root, 'var', 'lib', 'apt', 'lists'), { recursive: true, force: true });
    mkdirSync(join(root, 'var', 'lib', 'apt', 'lists', 'partial'), { recursive: true });
    writeFileSync(join(root, 'etc', 'apt', 'apt.conf.d', 'berth-test-clean'),
      '// A container base: apt keeps no binary caches and no downloaded packages.\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\nAPT::Keep-Downloaded-Packages "false";\n');
    const partial = join(work, 'base.tar.gz');
    run('tar', ['--numeric-owner', '-C', root, '-czf', partial, '.'], 10);
    renameSync(partial, BASE_TARBALL);
  } finally {
    // debootstrap mounts /proc and /sys in the root; one it failed to unmount must not be deleted into.
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(work + '/'));
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    rmSync(work, { recursive: true, force: true });
  }
}

describe('the Dockerfile, built and run by Berth', { skip: DEBOOTSTRAP ? false : 'debootstrap is not installed (Debian: apt-get install debootstrap)' }, () => {
  let berth: Berth | undefined;
  let sockDir: string | undefined;
  after(async () => {
    await berth?.cleanup();
    if (sockDir) rmSync(sockDir, { recursive: true, force: true });
  });

  it('builds from a debootstrap base and the image\'s berthd answers _ping and version', { timeout: 90 * MINUTE }, async (t) => {
    let mark = Date.now();
    const lap = (what: string): void => {
      t.diagnostic(`${what}: ${((Date.now() - mark) / 1000).toFixed(1)} s`);
      mark = Date.now();
    };
    ensureBaseTarball();
    lap('base tarball');
    berth = await startBerth({ busybox: false });
    berth.ok(['import', BASE_TARBALL, BASE_TAG], { timeoutMs: 10 * MINUTE });
    lap('docker import');

    const build = berth.docker(['build', '-q', '--build-arg', `BASE=${BASE_TAG}`, ...extraCaArgs(), '-t', IMAGE_TAG, REPO], { timeoutMs: 60 * MINUTE });
    assert.equal(build.code, 0, `docker build failed:\n${build.stderr.slice(-4000)}\n--- berthd log ---\n${berth.log()}`);
    lap('docker build');

    // The inner daemon's socket appears in a directory bind-mounted from the host.
    sockDir = mkdtempSync(join(tmpdir(), 'berth-df-'));
    const innerSocket = join(sockDir, 'berth.sock');
    const id = berth.ok(['run', '-d', '--privileged', '-v', `${sockDir}:/var/run/berth-sock`, IMAGE_TAG, '-H', 'unix:///var/run/berth-sock/berth.sock']).trim();
    let up = false;
    for (let i = 0; i < 600 && !up; i++) {
      up = await ping(innerSocket);
      if (!up) {
        const state = berth.ok(['inspect', '-f', '{{.State.Running}}', id]).trim();
        assert.equal(state, 'true', `the image's berthd exited:\n${berth.docker(['logs', id]).stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    lap('berthd in the image answers');
    assert.ok(up, `the image's berthd did not answer /_ping:\n${berth.docker(['logs', id]).stderr}`);
    const version = spawnSync(DOCKER, ['-H', `unix://${innerSocket}`, 'version', '-f', '{{.Server.Version}} {{.Server.Os}}'], { encoding: 'utf8', timeout: MINUTE });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout.trim(), /^\S+ linux$/);
  });
});
