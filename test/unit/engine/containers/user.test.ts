import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import { GroupAddError, resolveInRootfs, resolveUser } from '../../../../src/engine/containers/user';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# a comment
app:x:1000:1001:App:/home/app:/bin/sh
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
wheel:x:10:root
app:x:1001:
staff:x:50:app,www-data
video:x:44:app
web:x:2000:
`;

describe('resolveUser', () => {
  let dir: string;
  let rootfs: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-user-'));
    rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
    await writeFile(join(rootfs, 'etc/group'), GROUP);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('"" is root with its supplementary groups', async () => {
    assert.deepEqual(await resolveUser(rootfs, ''), { uid: 0, gid: 0, additionalGids: [10] });
  });

  it('looks names and uids up in /etc/passwd, groups in /etc/group', async () => {
    assert.deepEqual(await resolveUser(rootfs, 'app'), { uid: 1000, gid: 1001, additionalGids: [50, 44] });
    assert.deepEqual(await resolveUser(rootfs, '1000'), { uid: 1000, gid: 1001, additionalGids: [50, 44] });
    assert.deepEqual(await resolveUser(rootfs, 'www-data'), { uid: 33, gid: 33, additionalGids: [50] });
  });

  it('an explicit group sets the gid and drops supplementary groups', async () => {
    assert.deepEqual(await resolveUser(rootfs, 'app:web'), { uid: 1000, gid: 2000, additionalGids: [] });
    assert.deepEqual(await resolveUser(rootfs, 'app:44'), { uid: 1000, gid: 44, additionalGids: [] });
    assert.deepEqual(await resolveUser(rootfs, '1000:4242'), { uid: 1000, gid: 4242, additionalGids: [] });
    assert.deepEqual(await resolveUser(rootfs, ':web'), { uid: 0, gid: 2000, additionalGids: [] });
  });

  it('allows a numeric uid without a passwd entry (gid 0)', async () => {
    assert.deepEqual(await resolveUser(rootfs, '4242'), { uid: 4242, gid: 0, additionalGids: [] });
    assert.deepEqual(await resolveUser(rootfs, '4242:4242'), { uid: 4242, gid: 4242, additionalGids: [] });
  });

  it("rejects unknown names with dockerd's message", async () => {
    await assert.rejects(resolveUser(rootfs, 'nobody'), (err: unknown) => {
      assert.ok(err instanceof InvalidParameterError);
      assert.equal(err.message, 'unable to find user nobody: no matching entries in passwd file');
      return true;
    });
    await assert.rejects(resolveUser(rootfs, 'app:nogroup'), {
      message: 'unable to find group nogroup: no matching entries in group file',
    });
    await assert.rejects(resolveUser(rootfs, '4294967296'), InvalidParameterError);
  });

  it('adds HostConfig.GroupAdd: names from /etc/group, numbers as they are, runc\'s errors', async () => {
    // Appended to the user's own groups as dockerd appends them (a repeat stays).
    assert.deepEqual((await resolveUser(rootfs, 'app', ['web', '7', '50'])).additionalGids, [50, 44, 2000, 7, 50]);
    assert.deepEqual((await resolveUser(rootfs, '', ['1000', '1001'])).additionalGids, [10, 1000, 1001]);
    await assert.rejects(resolveUser(rootfs, '', ['nosuch']), (err: unknown) => {
      assert.ok(err instanceof GroupAddError);
      assert.equal(err.message, 'Unable to find group nosuch: no matching entries in group file');
      return true;
    });
    await assert.rejects(resolveUser(rootfs, '', ['-5']), { message: 'uids and gids must be in range 0-2147483647' });
    // A gid given twice (by number, then by name) fails on the name, as runc's lookup does.
    await assert.rejects(resolveUser(rootfs, '', ['2000', 'web']), { message: 'Unable to find group web: no matching entries in group file' });
  });

  it('works without /etc/passwd and /etc/group', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    assert.deepEqual(await resolveUser(empty, ''), { uid: 0, gid: 0, additionalGids: [] });
    assert.deepEqual(await resolveUser(empty, '123:456'), { uid: 123, gid: 456, additionalGids: [] });
    await assert.rejects(resolveUser(empty, 'app'), InvalidParameterError);
  });

  it('follows symlinks inside the rootfs and never out of it', async () => {
    const host = join(dir, 'host-etc');
    await mkdir(host);
    await writeFile(join(host, 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
    const escaping = join(dir, 'escaping');
    await mkdir(join(escaping, 'etc'), { recursive: true });
    // Absolute and ../ targets are resolved against the rootfs, not the host.
    await symlink(join(host, 'passwd'), join(escaping, 'etc/passwd'));
    await symlink('../../../../../../../../host-etc/group', join(escaping, 'etc/group'));
    await assert.rejects(resolveUser(escaping, 'evil'), InvalidParameterError);

    const linked = join(dir, 'linked');
    await mkdir(join(linked, 'real'), { recursive: true });
    await writeFile(join(linked, 'real/passwd'), 'svc:x:500:500::/:/bin/sh\n');
    await symlink('/real', join(linked, 'etc'));
    assert.deepEqual(await resolveUser(linked, 'svc'), { uid: 500, gid: 500, additionalGids: [] });
  });

  it('resolveInRootfs keeps every result under the rootfs', async () => {
    const r = join(dir, 'r');
    await mkdir(join(r, 'a'), { recursive: true });
    await symlink('../../../..', join(r, 'a/up'));
    await symlink('/a/loop2', join(r, 'a/loop1'));
    await symlink('/a/loop1', join(r, 'a/loop2'));
    assert.equal(await resolveInRootfs(r, '/a/up/etc/passwd'), join(r, 'etc/passwd'));
    assert.equal(await resolveInRootfs(r, '../../x'), join(r, 'x'));
    await assert.rejects(resolveInRootfs(r, '/a/loop1'), { code: 'ELOOP' });
  });
});
