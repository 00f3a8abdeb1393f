import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedLocalHit, layerOfHistoryEntry, matchHistory } from '../../../../src/engine/builder/cache-from';
import type { ImageRecord } from '../../../../src/engine/images/types';

const image = (id: string, history: Array<{ created_by: string; empty_layer?: boolean }>, diffIds: string[]): ImageRecord => ({
  id,
  config: { history: history.map((h) => ({ created: '2024-01-01T00:00:00Z', ...h })), rootfs: { type: 'layers', diff_ids: diffIds } },
  chainIds: [],
  size: 0,
  repoDigests: [],
  loadedAt: '',
});

const base = image('base', [{ created_by: 'ADD rootfs' }], ['d1']);
const env = image('env', [{ created_by: 'ADD rootfs' }, { created_by: 'ENV A=1', empty_layer: true }], ['d1']);
const target = image('target', [{ created_by: 'ADD rootfs' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'RUN x' }], ['d1', 'd2']);
const sources = [{ image: target, chain: new Set(['target', 'parent-of-target']) }];

test('a local hit counts only when a source or its ancestors have it', () => {
  assert.equal(allowedLocalHit(sources, 'parent-of-target'), true);
  assert.equal(allowedLocalHit(sources, 'elsewhere'), false);
  assert.equal(allowedLocalHit([], 'target'), false);
});

test('a source whose history continues the parent with the same instruction matches', () => {
  assert.deepEqual(matchHistory(sources, base, 'ENV A=1'), { kind: 'step', source: target, historyIndex: 1 });
  assert.deepEqual(matchHistory(sources, env, 'RUN x'), { kind: 'image', id: 'target' });
  assert.equal(matchHistory(sources, env, 'RUN y'), undefined, 'another instruction');
  const other = image('other', [{ created_by: 'ADD another rootfs' }], ['d9']);
  assert.equal(matchHistory(sources, other, 'ENV A=1'), undefined, 'another base');
  assert.deepEqual(matchHistory(sources, undefined, 'ADD rootfs'), { kind: 'step', source: target, historyIndex: 0 });
});

test('the layer a history entry made', () => {
  assert.equal(layerOfHistoryEntry(target, 0), 'd1');
  assert.equal(layerOfHistoryEntry(target, 1), undefined);
  assert.equal(layerOfHistoryEntry(target, 2), 'd2');
});
