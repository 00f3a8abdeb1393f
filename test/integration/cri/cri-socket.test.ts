import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';
import { CRI_TOOLS } from './cri-tools';

/**
 * The CRI socket itself, driven by crictl (a Go gRPC client, as kubelet is): it answers both
 * API versions, reports readiness from kubelet's CNI directory, and `--cri=false` turns it off.
 */
const TOOLS = CRI_TOOLS;
const skip = existsSync(join(TOOLS, 'crictl')) ? false : `crictl not found in ${TOOLS}; set BERTH_CRI_TOOLS to its folder`;

function crictl(socket: string, args: string[]) {
  const r = spawnSync(join(TOOLS, 'crictl'), ['--runtime-endpoint', `unix://${socket}`, '--image-endpoint', `unix://${socket}`, '--timeout', '10s', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('the CRI socket', { skip }, () => {
  let berth: Berth;

  before(async () => {
    berth = await startBerth({ busybox: false });
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('answers crictl version with Berth as the runtime, many calls on one connection', () => {
    const r = crictl(berth.criSocket, ['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /RuntimeName:\s+berth/);
    assert.match(r.stdout, /RuntimeApiVersion:\s+v1\n/);
    assert.match(r.stdout, /^Version:\s+0\.1\.0$/m);
  });

  it('is ready for pods once kubelet’s CNI directory has a network', () => {
    const before = JSON.parse(crictl(berth.criSocket, ['info']).stdout);
    const network = before.status.conditions.find((c: { type: string }) => c.type === 'NetworkReady');
    assert.equal(network.status, false);
    assert.match(network.message, /cni config uninitialized/);
    mkdirSync(berth.cniConfDir, { recursive: true });
    writeFileSync(join(berth.cniConfDir, '10-pods.conflist'), JSON.stringify({ cniVersion: '0.4.0', name: 'pods', plugins: [{ type: 'loopback' }] }));
    const now = JSON.parse(crictl(berth.criSocket, ['info']).stdout);
    assert.deepEqual(
      now.status.conditions.map((c: { type: string; status: boolean }) => [c.type, c.status]),
      [
        ['RuntimeReady', true],
        ['NetworkReady', true],
      ],
    );
  });

  it('is not served with --cri=false, and the Docker API still is', async () => {
    const off = await startBerth({ busybox: false, extraArgs: ['--cri=false'] });
    try {
      assert.equal(existsSync(off.criSocket), false);
      assert.match(off.ok(['version', '--format', '{{.Server.Version}}']), /\d/);
    } finally {
      await off.cleanup();
    }
  });
});
