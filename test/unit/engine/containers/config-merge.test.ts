import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeImageConfig, validateConfig } from '../../../../src/engine/containers/config-merge';
import { mergeEnv } from '../../../../src/engine/env-vars';
import { normalizeName } from '../../../../src/engine/containers/names';
import { generateId } from '../../../../src/engine/ids';
import { parseSignal } from '../../../../src/engine/containers/signals';
import { InvalidParameterError } from '../../../../src/errors';
import type { ImageRecord } from '../../../../src/engine/images/types';

const image = (config: Record<string, unknown>): ImageRecord => ({
  id: 'sha256:' + 'a'.repeat(64),
  config: { rootfs: { type: 'layers', diff_ids: [] }, config },
  chainIds: [],
  size: 0,
  repoDigests: [],
  loadedAt: '',
});

describe('create config merging', () => {
  it('takes Cmd from the image unless given', () => {
    const img = image({ Cmd: ['sh'], Env: ['PATH=/bin', 'A=1'], WorkingDir: '/w' });
    const m = mergeImageConfig({ Image: 'x', Env: ['A=2', 'B=3'] }, img);
    assert.equal(m.path, 'sh');
    assert.deepEqual(m.args, []);
    assert.deepEqual(m.config.Env, ['PATH=/bin', 'A=2', 'B=3']);
    assert.equal(m.config.WorkingDir, '/w');
    const withCmd = mergeImageConfig({ Image: 'x', Cmd: ['echo', 'hi'] }, img);
    assert.deepEqual([withCmd.path, ...withCmd.args], ['echo', 'hi']);
  });

  it('drops the image Cmd when an Entrypoint is given', () => {
    const img = image({ Cmd: ['sh'], Entrypoint: ['/init'] });
    const m = mergeImageConfig({ Image: 'x', Entrypoint: ['echo'] }, img);
    assert.deepEqual([m.path, ...m.args], ['echo']);
    const both = mergeImageConfig({ Image: 'x', Cmd: ['a'] }, img);
    assert.deepEqual([both.path, ...both.args], ['/init', 'a']);
  });

  it('rejects a container without a command', () => {
    assert.throws(() => mergeImageConfig({ Image: 'x' }, image({})), InvalidParameterError);
  });

  it('merges env by key', () => {
    assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3', 'C']), ['A=1', 'B=3', 'C']);
  });

  it('validates field types', () => {
    assert.throws(() => validateConfig({ Cmd: 5 }), /cannot unmarshal number/);
    assert.throws(() => validateConfig({ Env: 'A=1' }), /cannot unmarshal string/);
    assert.throws(() => validateConfig({ Tty: 'yes' }), /bool/);
    assert.doesNotThrow(() => validateConfig({ Cmd: 'echo hi', Image: 'busybox' }));
  });
});

describe('names, ids and signals', () => {
  it('validates container names like dockerd', () => {
    assert.equal(normalizeName('web'), '/web');
    assert.equal(normalizeName('/web_1.a-b'), '/web_1.a-b');
    for (const bad of ['a', '-web', 'we b', '', 'x/y']) assert.throws(() => normalizeName(bad), /Invalid container name/);
  });
  it('generates 64-hex ids whose short form is not all digits', () => {
    for (let i = 0; i < 50; i++) {
      const id = generateId();
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.doesNotMatch(id.slice(0, 12), /^\d+$/);
    }
  });
  it('parses signals', () => {
    assert.equal(parseSignal('9'), 'SIGKILL');
    assert.equal(parseSignal('term'), 'SIGTERM');
    assert.equal(parseSignal('SIGUSR1'), 'SIGUSR1');
    assert.throws(() => parseSignal('NOPE'), /Invalid signal: NOPE/);
    assert.throws(() => parseSignal('0'), /Invalid signal/);
  });
});
