import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { twoLayerImage } from '../../fixtures/busybox-image';
import { sha256, tarOf } from '../../fixtures/save-tarball';
import { v1Json, v1SaveTarball, type V1Chain } from '../../fixtures/v1-save-tarball';
import { api, startBerth, type Berth } from '../harness';

/** The config dockerd makes of a v1 JSON (checked against dockerd 20.10 by hand): sorted keys, Go's HTML escapes. */
function expectedConfig(chain: V1Chain, upTo: number): string {
  const layers = chain.layers.slice(0, upTo + 1);
  const v1 = JSON.parse(v1Json(chain, upTo)) as Record<string, unknown>;
  const { id: _id, parent: _parent, Size: _size, ...kept } = v1;
  const history = layers.map((l, i) => {
    const json = JSON.parse(v1Json(chain, i)) as { created: string; author?: string };
    return { created: json.created, ...(json.author ? { author: json.author } : {}), created_by: l.cmd.join(' ') };
  });
  const all: Record<string, unknown> = { ...kept, history, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) } };
  const sorted = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
  return JSON.stringify(sorted).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

describe('docker load: the format of Docker before 1.10, and archives that are not images', () => {
  let berth: Berth;
  let dir: string;
  before(async () => {
    berth = await startBerth({ busybox: false });
    dir = mkdtempSync(join(tmpdir(), 'berth-load-formats-'));
  });
  after(async () => {
    await berth?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads a pre-1.10 save (per-layer json + layer.tar, repositories): every layer an image, tagged, with dockerd\'s IDs', async () => {
    const image = await twoLayerImage(null);
    const config = { Env: ['PATH=/bin'], Cmd: ['sh'] };
    const chain: V1Chain = {
      layers: [
        { tar: image.layers[0], cmd: ['/bin/sh', '-c', '#(nop) ADD file:0123 in / && echo <ok>'], config },
        { tar: image.layers[1], cmd: ['/bin/sh', '-c', 'echo two > /etc/layer2.txt'], author: 'Berth <tests@berth>', indent: true, config: { ...config, Labels: { a: 'b' } } },
      ],
      tags: { 'busybox:v1': undefined, 'berthv1/base:latest': 0 },
    };
    const tarball = join(dir, 'v1.tar');
    writeFileSync(tarball, await v1SaveTarball([chain]));
    // dockerd's legacy load prints no `Loaded image` lines.
    assert.equal(berth.ok(['load', '-i', tarball]), '');
    const [top] = JSON.parse(berth.ok(['image', 'inspect', 'busybox:v1']));
    const [base] = JSON.parse(berth.ok(['image', 'inspect', 'berthv1/base']));
    assert.equal(base.Id, sha256(expectedConfig(chain, 0)));
    assert.equal(top.Id, sha256(expectedConfig(chain, 1)));
    assert.equal(top.Parent, base.Id);
    assert.equal(top.Author, 'Berth <tests@berth>');
    assert.deepEqual(top.Config.Labels, { a: 'b' });
    assert.equal(top.RootFS.Layers.length, 2);
    const history = berth.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'busybox:v1']).trim().split('\n');
    assert.deepEqual(history, ['/bin/sh -c echo two > /etc/layer2.txt', '/bin/sh -c #(nop) ADD file:0123 in / && echo <ok>']);
    assert.equal(berth.ok(['run', '--rm', 'busybox:v1', 'cat', '/etc/layer2.txt']), 'second layer\n');
    // Loading it again changes nothing.
    assert.equal(berth.ok(['load', '-i', tarball]), '');
    assert.equal(JSON.parse(berth.ok(['image', 'inspect', 'busybox:v1']))[0].Id, top.Id);
  });

  it('re-marshals v1 JSON of Docker before 1.8.3 as dockerd does (its fields only, keys in any case)', async () => {
    const image = await twoLayerImage(null);
    const chain: V1Chain = {
      layers: [
        {
          tar: image.layers[0],
          cmd: ['unused: container_config below replaces it'],
          dockerVersion: null,
          extra: {
            checksum: 'tarsum+sha256:abc',
            Created: '2015-06-01T10:00:00.123400Z',
            container_config: { Hostname: 'h', Cmd: '/bin/sh -c echo <x>', PortSpecs: null, Labels: { z: '1', a: '2' }, ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} } },
          },
        },
        { tar: image.layers[1], cmd: ['/bin/sh', '-c', 'echo two'], dockerVersion: '1.6.2', config: { Env: ['PATH=/bin'], Cmd: 'sh', Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 }, StopTimeout: 5, Shell: [] }, extra: { Size: 0 } },
      ],
      tags: { 'busybox:old': undefined },
    };
    const tarball = join(dir, 'old.tar');
    writeFileSync(tarball, await v1SaveTarball([chain]));
    berth.ok(['load', '-i', tarball]);
    const [top] = JSON.parse(berth.ok(['image', 'inspect', 'busybox:old']));
    // The base image's config exactly as dockerd 20.10 stored it for this archive.
    const container = sha256('container 0').slice('sha256:'.length);
    const baseConfig =
      `{"architecture":"amd64","container":"${container}","container_config":{"Hostname":"h","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,` +
      `"ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/sh -c echo \\u003cx\\u003e"],"Image":"","Volumes":{"/data":{}},"WorkingDir":"",` +
      `"Entrypoint":null,"OnBuild":null,"Labels":{"a":"2","z":"1"}},"created":"2015-06-01T10:00:00.1234Z","history":[{"created":"2015-06-01T10:00:00.1234Z","created_by":"/bin/sh -c echo \\u003cx\\u003e"}],` +
      `"os":"linux","rootfs":{"type":"layers","diff_ids":["${sha256(image.layers[0])}"]}}`;
    assert.equal(top.Parent, sha256(baseConfig));
    assert.deepEqual(top.Config.Healthcheck, { Test: ['CMD', 'true'], Interval: 1e9 });
    assert.equal(berth.ok(['run', '--rm', 'busybox:old', 'cat', '/etc/layer2.txt']), 'second layer\n');
  });

  it('fails on archives that are not images as dockerd does: status 200, the error in the stream', async () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['random bytes', randomBytes(1000), /^Error processing tar file\(exit status 1\): archive\/tar: invalid tar header$/],
      ['a short text', Buffer.from('hello\n'), /^Error processing tar file\(exit status 1\): unexpected EOF$/],
      ['an empty tar', await tarOf([]), /^open \S+\/repositories: no such file or directory$/],
      ['nothing', Buffer.alloc(0), /^open \S+\/repositories: no such file or directory$/],
    ];
    for (const [what, body, message] of cases) {
      const cli = berth.docker(['load'], { input: body });
      assert.equal(cli.code, 1, what);
      assert.match(cli.stderr.trim(), message, what);
      const res = await api(berth.socket, 'POST', '/images/load?quiet=1', body, { 'Content-Type': 'application/x-tar' });
      assert.equal(res.status, 200, what);
      const line = JSON.parse(res.body.trim()) as { error: string; errorDetail: { message: string } };
      assert.match(line.error, message, what);
      assert.equal(line.errorDetail.message, line.error, what);
    }
    assert.equal(berth.ok(['images', '-q', '--filter', 'dangling=true']), '');
  });
});
