import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync, constants } from 'node:zlib';
import { SPDY3_DICTIONARY } from '../../../src/cri/streaming/spdy-dictionary';
import { decodeFrame, encodeFrame, FrameReader, SpdyProtocolError, type SpdyFrame } from '../../../src/cri/streaming/spdy-frames';
import { decodeHeaderBlock, encodeHeaderBlock, HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from '../../../src/cri/streaming/spdy-header-block';

test('the SPDY/3 dictionary is the spec’s: 1423 bytes, DICTID 0xe3c6a7c2 in the zlib header', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  const stream = deflateSync(Buffer.alloc(0), { dictionary: SPDY3_DICTIONARY });
  assert.equal(stream[1] & 0x20, 0x20, 'FDICT set');
  assert.equal(stream.readUInt32BE(2), 0xe3c6a7c2);
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(SPDY3_DICTIONARY.toString('latin1').endsWith(',*,enq=0.'));
});

const FRAMES: SpdyFrame[] = [
  { type: 'data', streamId: 5, fin: false, data: Buffer.from('hello') },
  { type: 'data', streamId: 0x7fffffff, fin: true, data: Buffer.alloc(0) },
  { type: 'syn_stream', streamId: 3, associatedId: 1, priority: 7, fin: true, unidirectional: true, headerBlock: Buffer.from([1, 2, 3]) },
  { type: 'syn_reply', streamId: 3, fin: false, headerBlock: Buffer.from([9]) },
  { type: 'rst_stream', streamId: 9, status: 5 },
  { type: 'settings', clear: true, entries: [{ flags: 1, id: 7, value: 65536 }, { flags: 0, id: 4, value: 100 }] },
  { type: 'ping', id: 0xfffffffe },
  { type: 'goaway', lastGoodStreamId: 11, status: 2 },
  { type: 'headers', streamId: 1, fin: true, headerBlock: Buffer.from('abc') },
  { type: 'window_update', streamId: 1, delta: 0x10000 },
];

test('every frame kind encodes and decodes back to itself', () => {
  for (const frame of FRAMES) assert.deepEqual(decodeFrame(encodeFrame(frame)), frame, frame.type);
});

test('frames are laid out as the spec draws them', () => {
  assert.deepEqual(encodeFrame({ type: 'ping', id: 1 }), Buffer.from([0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]));
  assert.deepEqual(encodeFrame({ type: 'data', streamId: 3, fin: true, data: Buffer.from('hi') }), Buffer.from([0, 0, 0, 3, 0x01, 0, 0, 2, 0x68, 0x69]));
  const syn = encodeFrame({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 2, fin: false, unidirectional: false, headerBlock: Buffer.alloc(0) });
  assert.deepEqual(syn, Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0, 0x40, 0x00]));
});

test('the reader cuts frames out of any chunking, byte by byte too', () => {
  const bytes = Buffer.concat(FRAMES.map(encodeFrame));
  const reader = new FrameReader();
  const out: SpdyFrame[] = [];
  for (const b of bytes) out.push(...reader.push(Buffer.from([b])));
  assert.deepEqual(out, FRAMES);
  assert.deepEqual(new FrameReader().push(bytes), FRAMES);
});

test('a control frame of another version, a short one or one over the limit is a protocol error; unknown types are ignored', () => {
  const v2 = encodeFrame({ type: 'ping', id: 1 });
  v2.writeUInt16BE(0x8002, 0);
  assert.throws(() => decodeFrame(v2), SpdyProtocolError);
  const short = Buffer.from([0x80, 0x03, 0x00, 0x03, 0, 0, 0, 4, 0, 0, 0, 1]);
  assert.throws(() => decodeFrame(short), /too short/);
  assert.throws(() => new FrameReader(10).push(encodeFrame({ type: 'data', streamId: 1, fin: false, data: Buffer.alloc(11) })), /larger than 10/);
  assert.deepEqual(decodeFrame(Buffer.from([0x80, 0x03, 0x00, 0x0a, 0, 0, 0, 0])), { type: 'unknown', frameType: 10 });
});

test('header blocks: lengths and NUL-joined values; names must be lower-case and unique', () => {
  const block = encodeHeaderBlock({ streamtype: ['stdout'], port: ['80'], multi: ['a', 'b'] });
  assert.equal(block.readUInt32BE(0), 3);
  assert.deepEqual(block.subarray(4, 28), Buffer.concat([Buffer.from([0, 0, 0, 10]), Buffer.from('streamtype'), Buffer.from([0, 0, 0, 6]), Buffer.from('stdout')]));
  assert.ok(block.includes(Buffer.from('a\0b')), 'values of one name joined by NUL');
  assert.deepEqual(decodeHeaderBlock(block), { streamtype: ['stdout'], port: ['80'], multi: ['a', 'b'] });
  const upper = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 4]), Buffer.from('Port'), Buffer.from([0, 0, 0, 1]), Buffer.from('1')]);
  assert.throws(() => decodeHeaderBlock(upper), /not lower-case/);
  const twice = Buffer.concat([Buffer.from([0, 0, 0, 2]), ...['a', 'a'].map((n) => Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from(n), Buffer.from([0, 0, 0, 0])]))]);
  assert.throws(() => decodeHeaderBlock(twice), /appears twice/);
  assert.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9])), /truncated/);
});

test('header compression round-trips through one zlib context per direction, block after block', async () => {
  const compressor = new HeaderCompressor();
  const decompressor = new HeaderDecompressor();
  try {
    const blocks: SpdyHeaders[] = [{ streamtype: ['error'] }, { streamtype: ['stdout'] }, {}, { port: ['8080'], requestid: ['0'], streamtype: ['data'] }];
    const compressed = await Promise.all(blocks.map((b) => compressor.compress(b)));
    // Only the first block carries the zlib header (with the dictionary's id); later ones
    // depend on it, and each ends with a sync flush marker.
    assert.equal(compressed[0].readUInt32BE(2), 0xe3c6a7c2);
    for (const c of compressed) assert.deepEqual(c.subarray(-4), Buffer.from([0x00, 0x00, 0xff, 0xff]));
    // Repeats compress to almost nothing once the context has seen them.
    const again = await compressor.compress({ streamtype: ['stdout'] });
    assert.ok(again.length < compressed[1].length, `${again.length} < ${compressed[1].length}`);
    const decoded = [];
    for (const c of [...compressed, again]) decoded.push(await decompressor.decompress(c));
    assert.deepEqual(decoded, [...blocks, { streamtype: ['stdout'] }]);
    // A plain zlib inflater with the dictionary reads the same bytes (what Go's framer does).
    const plain = inflateSync(Buffer.concat(compressed), { dictionary: SPDY3_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    assert.deepEqual(plain, Buffer.concat(blocks.map(encodeHeaderBlock)));
  } finally {
    compressor.close();
    decompressor.close();
  }
});

test('a block that is not zlib data is a protocol error', async () => {
  const decompressor = new HeaderDecompressor();
  try {
    await assert.rejects(decompressor.decompress(Buffer.from('not zlib at all')), SpdyProtocolError);
  } finally {
    decompressor.close();
  }
});
