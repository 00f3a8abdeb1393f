import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveUsernsRemap, type UserDatabase } from '../../../../src/engine/userns/remap-config';

interface FakeDb extends UserDatabase {
  users: Array<{ name: string; uid: number; gid: number }>;
  groups: Array<{ name: string; gid: number }>;
  files: { uid: string; gid: string };
  calls: string[];
}

function fakeDb(over: Partial<Pick<FakeDb, 'users' | 'groups' | 'files'>> = {}): FakeDb {
  const db: FakeDb = {
    users: over.users ?? [{ name: 'root', uid: 0, gid: 0 }, { name: 'alice', uid: 1001, gid: 1001 }, { name: 'nobody', uid: 65534, gid: 65534 }],
    groups: over.groups ?? [{ name: 'root', gid: 0 }, { name: 'alice', gid: 1001 }, { name: 'staff', gid: 50 }, { name: 'nogroup', gid: 65534 }],
    files: over.files ?? { uid: 'alice:100000:65536\n1001:300000:10\n', gid: 'alice:200000:65536\n' },
    calls: [],
    async lookupUser(key) {
      return db.users.find((u) => u.name === key || String(u.uid) === key);
    },
    async lookupGroup(key) {
      return db.groups.find((g) => g.name === key || String(g.gid) === key);
    },
    async addSystemUser(name) {
      db.calls.push(`adduser ${name}`);
      db.users.push({ name, uid: 999, gid: 998 });
      db.groups.push({ name, gid: 998 });
    },
    async addSubIdRange(name, kind, start, count) {
      db.calls.push(`usermod ${kind} ${name} ${start} ${count}`);
      db.files[kind] += `${name}:${start}:${count}\n`;
    },
    async readSubIdFile(kind) {
      return db.files[kind];
    },
  };
  return db;
}

const quiet = { info: () => undefined, warn: () => undefined };
const message = (re: RegExp | string) => (err: unknown) => {
  assert.ok(err instanceof Error);
  if (typeof re === 'string') assert.equal(err.message, re);
  else assert.match(err.message, re);
  return true;
};

describe('--userns-remap resolution (dockerd parseRemappedRoot/setupRemappedRoot)', () => {
  it('maps a user to its subuid and subgid ranges, every range in file order', async () => {
    const r = await resolveUsernsRemap('alice', fakeDb(), quiet);
    assert.deepEqual(r, {
      user: 'alice',
      group: 'alice',
      idMap: {
        uids: [{ containerId: 0, hostId: 100000, size: 65536 }, { containerId: 65536, hostId: 300000, size: 10 }],
        gids: [{ containerId: 0, hostId: 200000, size: 65536 }],
      },
    });
  });

  it('takes user:group, uid, uid:gid; the group is checked but the user\'s ranges are used', async () => {
    assert.equal((await resolveUsernsRemap('alice:staff', fakeDb(), quiet))?.group, 'staff');
    assert.equal((await resolveUsernsRemap('alice:50', fakeDb(), quiet))?.group, 'staff');
    const byId = await resolveUsernsRemap('1001', fakeDb(), quiet);
    assert.deepEqual([byId?.user, byId?.group, byId?.idMap.gids[0].hostId], ['alice', 'alice', 200000]);
  });

  it("refuses what dockerd refuses, with dockerd's words", async () => {
    await assert.rejects(resolveUsernsRemap('a:b:c', fakeDb(), quiet), message('Invalid user/group specification in --userns-remap: "a:b:c"'));
    await assert.rejects(resolveUsernsRemap('nosuch', fakeDb(), quiet), message('Error during uid lookup for "nosuch": getent unable to find entry "nosuch" in passwd database'));
    await assert.rejects(resolveUsernsRemap('12345', fakeDb(), quiet), message('Uid 12345 has no entry in /etc/passwd: getent unable to find entry "12345" in passwd database'));
    await assert.rejects(resolveUsernsRemap('nobody', fakeDb(), quiet), message('Error during gid lookup for "nobody": getent unable to find entry "nobody" in group database'));
    await assert.rejects(resolveUsernsRemap('alice:nosuch', fakeDb(), quiet), message('Error during groupname lookup for "nosuch": getent unable to find entry "nosuch" in group database'));
    await assert.rejects(resolveUsernsRemap('65534', fakeDb(), quiet), message('Can\'t create ID mappings: no subuid ranges found for user "nobody"'));
    await assert.rejects(resolveUsernsRemap('alice', fakeDb({ files: { uid: 'alice:1:2\n', gid: 'bob:1:2\n' } }), quiet), message('Can\'t create ID mappings: no subgid ranges found for user "alice"'));
  });

  it('turns remapping off for root, with a warning', async () => {
    const warnings: string[] = [];
    assert.equal(await resolveUsernsRemap('root', fakeDb(), { info: () => undefined, warn: (m) => warnings.push(m) }), undefined);
    assert.equal(await resolveUsernsRemap('0', fakeDb(), quiet), undefined);
    assert.deepEqual(warnings, ['User namespaces: root cannot be remapped with itself; user namespaces are OFF']);
  });

  it('`default` creates dockremap with a free range in each file, once', async () => {
    const db = fakeDb({ files: { uid: 'alice:100000:65536\n', gid: '' } });
    const r = await resolveUsernsRemap('default', db, quiet);
    assert.deepEqual(db.calls, ['adduser dockremap', 'usermod uid dockremap 165536 65536', 'usermod gid dockremap 100000 65536']);
    assert.deepEqual(r?.idMap, { uids: [{ containerId: 0, hostId: 165536, size: 65536 }], gids: [{ containerId: 0, hostId: 100000, size: 65536 }] });
    db.calls.length = 0;
    const again = await resolveUsernsRemap('default', db, quiet);
    assert.deepEqual(db.calls, []);
    assert.deepEqual(again, r);
  });

  it('`default` keeps ranges the distribution already gave the new user', async () => {
    const db = fakeDb({ files: { uid: 'dockremap:400000:65536\n', gid: '' } });
    await resolveUsernsRemap('default', db, quiet);
    assert.deepEqual(db.calls, ['adduser dockremap', 'usermod gid dockremap 100000 65536']);
  });
});
