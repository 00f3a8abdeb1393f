import assert from 'node:assert/strict';
import test from 'node:test';
import { ImageFiles } from '../../../../src/engine/images/image-store-files';
import { formatRfc3339Nano, imageInspect, imageSummary, unixSeconds } from '../../../../src/engine/images/image-views';
import type { ImageRecord } from '../../../../src/engine/images/types';

test('times are printed like Go RFC3339Nano', () => {
  assert.equal(formatRfc3339Nano('2024-01-01T00:00:00Z'), '2024-01-01T00:00:00Z');
  assert.equal(formatRfc3339Nano('2024-01-01T00:00:00.000000000Z'), '2024-01-01T00:00:00Z');
  assert.equal(formatRfc3339Nano('2022-02-04T21:20:12.497794809Z'), '2022-02-04T21:20:12.497794809Z');
  assert.equal(formatRfc3339Nano('2022-02-04T21:20:12.4970Z'), '2022-02-04T21:20:12.497Z');
  assert.equal(formatRfc3339Nano('2022-02-04T21:20:12+00:00'), '2022-02-04T21:20:12Z');
  assert.equal(formatRfc3339Nano('2022-02-04T21:20:12.5+02:00'), '2022-02-04T21:20:12.5+02:00');
  assert.equal(formatRfc3339Nano('yesterday'), undefined);
  assert.equal(unixSeconds('2024-01-01T00:00:00Z'), 1704067200);
  assert.equal(unixSeconds('2024-01-01T02:00:00.9+02:00'), 1704067200);
  assert.equal(unixSeconds(undefined), 0);
});

const record = (config: Record<string, unknown>): ImageRecord => ({
  id: `sha256:${'1'.repeat(64)}`,
  config: { rootfs: { type: 'layers', diff_ids: [`sha256:${'2'.repeat(64)}`] }, ...config } as ImageRecord['config'],
  chainIds: [`sha256:${'2'.repeat(64)}`],
  size: 42,
  repoDigests: [],
  loadedAt: '2024-01-01T00:00:00Z',
});

test('inspect keeps set config fields, fills dockerd’s always-present ones, drops unknown ones', () => {
  const img = imageInspect(
    record({
      architecture: 'arm64',
      variant: 'v8',
      os: 'linux',
      author: 'me',
      comment: 'imported',
      docker_version: '24.0.7',
      config: {
        Hostname: 'legacy',
        User: 'app',
        Labels: { a: 'b' },
        Volumes: { '/data': {} },
        ExposedPorts: { '80/tcp': {} },
        Healthcheck: { Test: ['CMD', 'true'] },
        StopSignal: 'SIGQUIT',
        OnBuild: [],
        ArgsEscaped: false,
      },
    }),
    ['docker.io/library/app:1', `docker.io/library/app@sha256:${'3'.repeat(64)}`],
    new ImageFiles('/var/lib/berth/image'),
  );
  assert.equal(img.Variant, 'v8');
  assert.equal(img.Author, 'me');
  assert.equal(img.Comment, 'imported');
  assert.equal(img.DockerVersion, '24.0.7');
  assert.equal('Created' in img, false, 'omitted when the config has none');
  assert.deepEqual(img.RepoTags, ['app:1']);
  assert.deepEqual(img.RepoDigests, [`app@sha256:${'3'.repeat(64)}`]);
  assert.deepEqual(img.Config, {
    User: 'app',
    ExposedPorts: { '80/tcp': {} },
    Volumes: { '/data': {} },
    Labels: { a: 'b' },
    StopSignal: 'SIGQUIT',
    Healthcheck: { Test: ['CMD', 'true'] },
    Cmd: null,
    Entrypoint: null,
    Env: null,
    OnBuild: null,
    WorkingDir: '',
  });
  assert.deepEqual((img.ContainerConfig as Record<string, unknown>).Volumes, { '/data': {} }, 'compose v1 reads ContainerConfig.Volumes');
  assert.deepEqual(img.GraphDriver, {
    Name: 'overlay2',
    Data: {
      MergedDir: `/var/lib/berth/image/layers/${'2'.repeat(64)}/merged`,
      UpperDir: `/var/lib/berth/image/layers/${'2'.repeat(64)}/diff`,
      WorkDir: `/var/lib/berth/image/layers/${'2'.repeat(64)}/work`,
    },
  });
  const summary = imageSummary(record({ created: '2024-01-01T00:00:00Z', config: { Labels: { a: 'b' } } }), []);
  assert.deepEqual(summary.Labels, { a: 'b' });
  assert.equal(summary.Created, 1704067200);
  assert.equal(summary.Size, 42);
});

test('a legacy container_config is shown as ContainerConfig', () => {
  const img = imageInspect(record({ container_config: { Hostname: 'builder', Cmd: ['/bin/sh', '-c', '#(nop) CMD ["sh"]'] } }), [], new ImageFiles('/x'));
  const cc = img.ContainerConfig as Record<string, unknown>;
  assert.equal(cc.Hostname, 'builder');
  assert.deepEqual(cc.Cmd, ['/bin/sh', '-c', '#(nop) CMD ["sh"]']);
  assert.equal(cc.AttachStdin, false);
});
