/**
 * The repository's Dockerfile builds Berth's image with Berth itself, from a base made on this
 * machine: a Debian 12 root made by debootstrap from the host's apt mirror, `docker import`ed,
 * then `docker build` (the classic builder) and `docker run --privileged` of the result, whose
 * berthd must answer on a socket in a bind-mounted directory.
 *
 * The debootstrap tarball is cached outside the clone (BERTH_TEST_CACHE, default
 * /var/cache/berth-test) because making it takes minutes; delete it to rebuild. Skipped where
 * debootstrap is missing (test/run.sh installs it). Inside the build, apt and npm reach Debian's
 * archive and the npm registry over Berth's bridge NAT, as the host does (no --network host);
 * npm trusts the CA certificates the host added to its store, for networks that re-sign TLS.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { DOCKER, ping, startBerth, type Berth } from '../harness';

const REPO = resolve(__dirname, '..', '..', '..', '..');
const CACHE = process.env.BERTH_TEST_CACHE ?? '/var/cache/berth-test';
const BASE_TARBALL = join(CACHE, 'debian-bookworm-minbase.tar.gz');
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

/** Makes the cached base tarball unless it is there already. */
function ensureBaseTarball(): void {
  if (existsSync(BASE_TARBALL)) return;
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, 'debootstrap-'));
  try {
    const root = join(work, 'root');
    const boot = spawnSync(DEBOOTSTRAP!, ['--variant=minbase', 'bookworm', root, debianMirror()], { encoding: 'utf8', timeout: 30 * MINUTE });
    assert.equal(boot.status, 0, `debootstrap failed: ${boot.error?.message ?? ''}${boot.stderr}${boot.stdout.slice(-2000)}`);
    const partial = join(work, 'base.tar.gz');
    const tar = spawnSync('tar', ['--numeric-owner', '-C', root, '-czf', partial, '.'], { encoding: 'utf8', timeout: 10 * MINUTE });
    assert.equal(tar.status, 0, `tar failed: ${tar.stderr}`);
    renameSync(partial, BASE_TARBALL);
  } finally {
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

  it('builds from a debootstrap base and the image\'s berthd answers _ping and version', { timeout: 90 * MINUTE }, async () => {
    ensureBaseTarball();
    berth = await startBerth({ busybox: false });
    berth.ok(['import', BASE_TARBALL, BASE_TAG], { timeoutMs: 10 * MINUTE });

    const build = berth.docker(['build', '-q', '--build-arg', `BASE=${BASE_TAG}`, ...extraCaArgs(), '-t', IMAGE_TAG, REPO], { timeoutMs: 60 * MINUTE });
    assert.equal(build.code, 0, `docker build failed:\n${build.stderr.slice(-4000)}\n--- berthd log ---\n${berth.log()}`);

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
    assert.ok(up, `the image's berthd did not answer /_ping:\n${berth.docker(['logs', id]).stderr}`);
    const version = spawnSync(DOCKER, ['-H', `unix://${innerSocket}`, 'version', '-f', '{{.Server.Version}} {{.Server.Os}}'], { encoding: 'utf8', timeout: MINUTE });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout.trim(), /^\S+ linux$/);
  });
});
