import assert from 'node:assert/strict';
import test from 'node:test';
import { ConflictError } from '../../../../src/errors';
import { isImageIdPrefix, isSingleReference, planImageDelete, type DeleteRequest } from '../../../../src/engine/images/image-delete';

const ID = `sha256:${'ab12'.repeat(16)}`;
const DIGEST = `sha256:${'cd'.repeat(32)}`;
const BUSYBOX = 'docker.io/library/busybox:latest';
const BUSYBOX_DIGEST = `docker.io/library/busybox@${DIGEST}`;

const req = (over: Partial<DeleteRequest>): DeleteRequest => ({ imageId: ID, ref: 'busybox', refs: [BUSYBOX], users: [], children: 0, force: false, ...over });

test('isImageIdPrefix and isSingleReference follow dockerd', () => {
  assert.ok(isImageIdPrefix(ID, 'ab12'));
  assert.ok(isImageIdPrefix(ID, 'sha256:ab'));
  assert.ok(!isImageIdPrefix(ID, 'busybox'));
  assert.equal(isSingleReference([]), false);
  assert.equal(isSingleReference([BUSYBOX]), true);
  assert.equal(isSingleReference([BUSYBOX, BUSYBOX_DIGEST]), true, 'a tag plus digests of the same repository');
  assert.equal(isSingleReference([BUSYBOX, 'docker.io/library/busybox:1']), false);
  assert.equal(isSingleReference([BUSYBOX, `docker.io/foo/bar@${DIGEST}`]), false);
  assert.equal(isSingleReference([BUSYBOX_DIGEST, `docker.io/library/busybox@sha256:${'ef'.repeat(32)}`]), true);
});

test('untagging the last tag of a repository drops its digests too, then deletes', () => {
  const plan = planImageDelete(req({ refs: [BUSYBOX, BUSYBOX_DIGEST] }));
  assert.deepEqual(plan.untag, [BUSYBOX, BUSYBOX_DIGEST]);
  assert.deepEqual(plan.records, [{ Untagged: 'busybox:latest' }, { Untagged: `busybox@${DIGEST}` }]);
  assert.equal(plan.deleteImage, true);
});

test('untagging one of several tags keeps the image and the digests', () => {
  const plan = planImageDelete(req({ refs: [BUSYBOX, 'docker.io/library/busybox:1', BUSYBOX_DIGEST] }));
  assert.deepEqual(plan.records, [{ Untagged: 'busybox:latest' }]);
  assert.equal(plan.deleteImage, false);
});

test('removing by digest reference', () => {
  const plan = planImageDelete(req({ ref: `busybox@${DIGEST}`, refs: [BUSYBOX_DIGEST] }));
  assert.deepEqual(plan.records, [{ Untagged: `busybox@${DIGEST}` }]);
  assert.equal(plan.deleteImage, true);
});

test('by ID: a single repository is untagged and deleted; several need force', () => {
  const single = planImageDelete(req({ ref: 'ab12ab', refs: [BUSYBOX, BUSYBOX_DIGEST] }));
  assert.deepEqual(single.records, [{ Untagged: 'busybox:latest' }, { Untagged: `busybox@${DIGEST}` }]);
  assert.equal(single.deleteImage, true);
  assert.throws(() => planImageDelete(req({ ref: 'ab12', refs: [BUSYBOX, 'docker.io/foo/x:1'] })), /image is referenced in multiple repositories/);
  const forced = planImageDelete(req({ ref: 'ab12', refs: [BUSYBOX, 'docker.io/foo/x:1'], force: true }));
  assert.deepEqual(forced.records, [{ Untagged: 'foo/x:1' }, { Untagged: 'busybox:latest' }]);
  assert.equal(forced.deleteImage, true);
  const untagged = planImageDelete(req({ ref: ID, refs: [] }));
  assert.deepEqual(untagged, { untag: [], deleteImage: true, records: [] });
});

test('containers: stopped ones need force, running ones block deletion', () => {
  const stopped = [{ id: 'f'.repeat(64), running: false }];
  const running = [{ id: 'e'.repeat(64), running: true }];
  assert.throws(() => planImageDelete(req({ users: stopped })), ConflictError);
  assert.throws(() => planImageDelete(req({ ref: 'ab12', users: stopped })), /\(must be forced\) - image is being used by stopped container ffffffffffff$/);
  assert.equal(planImageDelete(req({ users: stopped, force: true })).deleteImage, true);
  assert.throws(() => planImageDelete(req({ ref: 'ab12', users: running, force: true })), /\(cannot be forced\) - image is being used by running container eeeeeeeeeeee$/);
  const byTag = planImageDelete(req({ users: running, force: true }));
  assert.deepEqual(byTag, { untag: [BUSYBOX], deleteImage: false, records: [{ Untagged: 'busybox:latest' }] });
  // With another tag left, removing one tag needs no force even if a container uses the image.
  const other = planImageDelete(req({ refs: [BUSYBOX, 'docker.io/foo/x:1'], users: stopped }));
  assert.deepEqual(other.records, [{ Untagged: 'busybox:latest' }]);
});

test('child images block deletion by ID even with force; by its last tag the parent is only untagged', () => {
  for (const force of [false, true]) {
    assert.throws(
      () => planImageDelete(req({ ref: 'ab12', refs: [], children: 1, force })),
      (err: Error) => err instanceof ConflictError && err.message === 'conflict: unable to delete ab12ab12ab12 (cannot be forced) - image has dependent child images',
    );
  }
  const plan = planImageDelete(req({ children: 2 }));
  assert.deepEqual(plan, { untag: [BUSYBOX], deleteImage: false, records: [{ Untagged: 'busybox:latest' }] });
});
