import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameMoment } from '../../../src/api/same-moment';

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('sameMoment', () => {
  it('computes once for identical requests of one turn', async () => {
    let computed = 0;
    const compute = async () => ++computed;
    const answers = await Promise.all([sameMoment('k', compute), sameMoment('k', compute), sameMoment('k', compute)]);
    assert.deepEqual(answers, [1, 1, 1]);
    assert.equal(computed, 1);
  });

  it('keeps different keys apart', async () => {
    const [a, b] = await Promise.all([sameMoment('a', async () => 'A'), sameMoment('b', async () => 'B')]);
    assert.deepEqual([a, b], ['A', 'B']);
  });

  it('computes again on the next turn of the event loop', async () => {
    let computed = 0;
    const compute = async () => ++computed;
    assert.equal(await sameMoment('again', compute), 1);
    await nextTurn();
    assert.equal(await sameMoment('again', compute), 2);
  });

  it('shares a failure with the requests of that turn only', async () => {
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('boom');
    };
    const results = await Promise.allSettled([sameMoment('f', failing), sameMoment('f', failing)]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(calls, 1);
    await nextTurn();
    assert.equal(await sameMoment('f', async () => 'ok'), 'ok');
  });
});
