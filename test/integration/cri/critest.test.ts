import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER, startBerth, type Berth } from '../harness';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../registry-fixture';
import { writePodNetwork, type PodNetwork } from './pod-network';
import { CRI_TOOLS } from './cri-tools';

/**
 * Kubernetes' CRI validation suite (critest 1.26.1) against Berth's own CRI socket. Nothing can
 * be pulled from the internet here, so the images critest asks for are built from busybox
 * (scripts/cri-images.sh), pushed to a local registry, and Berth is started with that registry
 * as the mirror of gcr.io, registry.k8s.io and docker.io: critest's pulls are real pulls.
 * Target: at least 70 of the specs that run here pass (see docs/cri.md, "Conformance").
 */
const REPO = resolve(__dirname, '..', '..', '..', '..');
const TOOLS = CRI_TOOLS;
const PASS_TARGET = 70;
const skip = !existsSync(join(TOOLS, 'critest')) ? `critest not found in ${TOOLS}; set BERTH_CRI_TOOLS to its folder` : !existsSync(REGISTRY_BIN) ? 'docker-registry is not installed' : false;

/** Every name scripts/cri-images.sh builds, as critest spells it. */
function builtImages(berth: Berth): string[] {
  return berth
    .ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])
    .split('\n')
    .filter((n) => /^(gcr\.io|registry\.k8s\.io)\//.test(n));
}

describe('critest against Berth’s CRI', { skip, timeout: 3_600_000 }, () => {
  let berth: Berth;
  let registry: TestRegistry;
  let net: PodNetwork;

  before(async () => {
    registry = await startRegistry();
    const mirror = `http://${registry.domain}`;
    berth = await startBerth({
      extraArgs: ['--registry-host-mirror', `gcr.io=${mirror}`, '--registry-host-mirror', `registry.k8s.io=${mirror}`, '--registry-mirror', mirror],
    });
    net = writePodNetwork(berth, 'critest');
    const built = spawnSync('bash', [join(REPO, 'scripts', 'cri-images.sh')], { env: { ...berth.env, PATH: `${dirname(DOCKER)}:${process.env.PATH}` }, encoding: 'utf8', timeout: 900_000 });
    assert.equal(built.status, 0, built.stderr);
    // Into the registry under the mirrored path; then out of the store, so critest pulls them.
    for (const name of builtImages(berth)) {
      const path = name.replace(/^[^/]+\//, '');
      berth.ok(['tag', name, `${registry.domain}/${path}`]);
      berth.ok(['push', `${registry.domain}/${path}`], { timeoutMs: 120_000 });
      berth.ok(['rmi', `${registry.domain}/${path}`]);
      if (!name.startsWith('berth.local/')) berth.ok(['rmi', name]);
    }
  });
  after(async () => {
    await berth?.cleanup();
    net?.remove();
    await registry?.stop();
  });

  it(`passes at least ${PASS_TARGET} specs`, async () => {
    const report = join(berth.dir, 'critest.log');
    const args = ['--runtime-endpoint', `unix://${berth.criSocket}`, '--image-endpoint', `unix://${berth.criSocket}`, '--ginkgo.no-color', '--ginkgo.timeout', '50m'];
    const out = await new Promise<string>((done) => {
      const p = spawn(join(TOOLS, 'critest'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d));
      p.stderr.on('data', (d: Buffer) => (text += d));
      p.on('close', () => done(text));
    });
    writeFileSync(report, out);
    if (process.env.BERTH_CRITEST_LOG) writeFileSync(process.env.BERTH_CRITEST_LOG, out);
    const summary = /Ran (\d+) of (\d+) Specs[\s\S]*?(\d+) Passed \| (\d+) Failed \| (\d+) Pending \| (\d+) Skipped/.exec(out);
    assert.ok(summary, `no ginkgo summary in critest's output (${report}):\n${out.slice(-3000)}`);
    const [, ran, total, passed, failed] = summary.map(Number);
    const failures = [...out.matchAll(/^\s*\[FAIL\] (.*)$/gm)].map((m) => m[1]);
    console.log(`critest: ran ${ran} of ${total}, ${passed} passed, ${failed} failed\n${failures.join('\n')}`);
    assert.ok(passed >= PASS_TARGET, `critest passed ${passed} of ${ran} (target ${PASS_TARGET}); failed:\n${failures.join('\n')}\n(full output: ${report})`);
  });
});
