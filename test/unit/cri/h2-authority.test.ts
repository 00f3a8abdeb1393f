import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteAuthority, withoutHeaderTable } from '../../../src/cri/h2-authority';

/** A literal with incremental indexing, indexed name `index`, plain value. */
function literal(index: number, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40 | index, value.length]), Buffer.from(value)]);
}

test('the :authority literal gets localhost; other fields are kept byte for byte', () => {
  const method = Buffer.from([0x83]); // :method POST (static 3)
  const path = literal(4, '/runtime.v1.RuntimeService/Version');
  const block = Buffer.concat([Buffer.from([0x20]), method, literal(1, '/run/berth/cri.sock'), path]);
  const out = rewriteAuthority(block);
  assert.deepEqual(out, Buffer.concat([Buffer.from([0x20]), method, literal(1, 'localhost'), path]));
});

test('a Huffman-coded or never-indexed :authority is replaced too, new-name literals are kept', () => {
  const huffman = Buffer.from([0x01, 0x83, 0xaa, 0xbb, 0xcc]); // without indexing, index 1, H=1, 3 bytes
  const newName = Buffer.concat([Buffer.from([0x00, 0x02]), Buffer.from('te'), Buffer.from([0x08]), Buffer.from('trailers')]);
  const out = rewriteAuthority(Buffer.concat([huffman, newName]));
  assert.deepEqual(out, Buffer.concat([Buffer.from([0x01, 0x09]), Buffer.from('localhost'), newName]));
});

test('long integers in indexes and lengths are read across bytes', () => {
  const value = 'x'.repeat(200);
  // index 62 (first dynamic entry) needs the 6-bit prefix plus one byte; length 200 needs 7-bit prefix plus one.
  const field = Buffer.concat([Buffer.from([0x7f, 0x00, 0x7f, 200 - 127]), Buffer.from(value)]);
  assert.deepEqual(rewriteAuthority(field), field);
});

test('SETTINGS always announce a header table of size 0', () => {
  const settings = Buffer.from([0x00, 0x01, 0x00, 0x00, 0x10, 0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00]);
  const out = withoutHeaderTable(settings);
  assert.deepEqual(out, Buffer.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00]));
  assert.deepEqual(withoutHeaderTable(Buffer.alloc(0)), Buffer.from([0x00, 0x01, 0, 0, 0, 0]));
});
