import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { KEY } from '../../../../src/engine/store/schema';
import { Store } from '../../../../src/engine/store/store';
import { hostMounter } from '../../../../src/engine/volumes/mounter';
import { rfc3339, VolumeService } from '../../../../src/engine/volumes/volume-service';

interface Fixture {
  dir: string;
  store: Store;
  svc: VolumeService;
  users: Map<string, string[]>;
  done(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-vol-'));
  const store = new Store(join(dir, 'db'));
  await store.open();
  const users = new Map<string, string[]>();
  const svc = new VolumeService({ store, root: join(dir, 'volumes'), log: pino({ level: 'silent' }), usersOf: (n) => users.get(n) ?? [] });
  await svc.init();
  return {
    dir,
    store,
    svc,
    users,
    async done() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const code = (c: string, msg?: string | RegExp) => (err: unknown) => {
  assert.equal((err as { code?: string }).code, c);
  if (typeof msg === 'string') assert.equal((err as Error).message, msg);
  else if (msg) assert.match((err as Error).message, msg);
  return true;
};

describe('VolumeService', () => {
  it('creates a named volume with its data directory and record', async () => {
    const f = await fixture();
    try {
      const v = await f.svc.create({ Name: 'data', Labels: { a: 'b' }, DriverOpts: {} });
      assert.equal(v.Name, 'data');
      assert.equal(v.Driver, 'local');
      assert.equal(v.Scope, 'local');
      assert.deepEqual(v.Labels, { a: 'b' });
      assert.deepEqual(v.Options, {});
      assert.equal(v.Mountpoint, join(f.dir, 'volumes', 'data', '_data'));
      assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
      const st = await stat(v.Mountpoint);
      assert.ok(st.isDirectory());
      assert.equal(st.mode & 0o777, 0o755);
      assert.equal((await stat(join(f.dir, 'volumes'))).mode & 0o777, 0o701);
      assert.equal((await f.store.get<{ name: string }>(KEY.volume('data')))?.name, 'data');
      assert.deepEqual(f.svc.inspect('data'), v);
    } finally {
      await f.done();
    }
  });

  it('gives a nameless volume a 64-hex name and the anonymous label', async () => {
    const f = await fixture();
    try {
      const v = await f.svc.create({});
      assert.match(v.Name, /^[0-9a-f]{64}$/);
      assert.deepEqual(v.Labels, { 'com.docker.volume.anonymous': '' });
      assert.equal(v.Options, null);
      const named = await f.svc.ensure('used-first');
      assert.equal(named, 'used-first');
      assert.equal(f.svc.inspect('used-first').Labels, null);
      assert.match(await f.svc.ensure(undefined), /^[0-9a-f]{64}$/);
    } finally {
      await f.done();
    }
  });

  it('returns an existing volume on create, whatever the options', async () => {
    const f = await fixture();
    try {
      const a = await f.svc.create({ Name: 'same', Labels: { x: '1' } });
      const b = await f.svc.create({ Name: 'same', Labels: { y: '2' }, DriverOpts: { type: 'tmpfs', device: 'tmpfs' } });
      assert.deepEqual(b, a);
      assert.equal(await f.svc.ensure('same'), 'same');
    } finally {
      await f.done();
    }
  });

  it('rejects bad names, drivers and options with dockerd messages', async () => {
    const f = await fixture();
    try {
      await assert.rejects(f.svc.create({ Name: 'a' }), code('INVALID_PARAMETER', 'create a: volume name is too short, names should be at least two alphanumeric characters'));
      await assert.rejects(
        f.svc.create({ Name: '/x' }),
        code('INVALID_PARAMETER', 'create /x: "/x" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'),
      );
      await assert.rejects(f.svc.create({ Name: 'v1', Driver: 'nfs' }), code('NOT_FOUND', 'create v1: error looking up volume plugin nfs: plugin "nfs" not found'));
      await assert.rejects(f.svc.create({ Name: 'v1', DriverOpts: { foo: 'bar' } }), code('INVALID_PARAMETER', 'create v1: invalid option: "foo"'));
      await assert.rejects(f.svc.create({ Name: 'v1', DriverOpts: { type: 'tmpfs' } }), code('INVALID_PARAMETER', 'create v1: missing required option: "device"'));
      await assert.rejects(f.svc.create({ Name: 'v1', DriverOpts: { o: 'size=1m', type: 'tmpfs' } }), code('INVALID_PARAMETER', 'create v1: missing required option: "device"'));
      await assert.rejects(f.svc.create({ Name: 'v1', DriverOpts: { size: '10m' } }), code('INVALID_PARAMETER', 'create v1: quota size requested but no quota support'));
      assert.deepEqual(await readdir(join(f.dir, 'volumes')), []);
    } finally {
      await f.done();
    }
  });

  it('inspect and remove answer 404 for a missing volume; force forgives it', async () => {
    const f = await fixture();
    try {
      assert.throws(() => f.svc.inspect('nope'), code('NOT_FOUND', 'get nope: no such volume'));
      await assert.rejects(f.svc.remove('nope', { force: false }), code('NOT_FOUND', 'get nope: no such volume'));
      await f.svc.remove('nope', { force: true });
    } finally {
      await f.done();
    }
  });

  it('refuses to remove a volume in use, even with force', async () => {
    const f = await fixture();
    try {
      await f.svc.create({ Name: 'busy' });
      f.users.set('busy', ['c1', 'c2']);
      await assert.rejects(f.svc.remove('busy', { force: true }), code('CONFLICT', 'remove busy: volume is in use - [c1, c2]'));
      f.users.delete('busy');
      await f.svc.remove('busy', { force: false });
      assert.equal(await f.store.get(KEY.volume('busy')), undefined);
      await assert.rejects(stat(join(f.dir, 'volumes', 'busy')));
    } finally {
      await f.done();
    }
  });

  it('reloads records on init', async () => {
    const f = await fixture();
    try {
      await f.svc.create({ Name: 'kept', Labels: { k: 'v' } });
      const again = new VolumeService({ store: f.store, root: join(f.dir, 'volumes'), log: pino({ level: 'silent' }), usersOf: () => [] });
      await again.init();
      assert.deepEqual(again.inspect('kept'), f.svc.inspect('kept'));
    } finally {
      await f.done();
    }
  });

  it('lists with the dangling, name, label and driver filters', async () => {
    const f = await fixture();
    try {
      await f.svc.create({ Name: 'web-data', Labels: { app: 'web', tier: 'front' } });
      await f.svc.create({ Name: 'db-data', Labels: { app: 'db' } });
      await f.svc.create({ Name: 'scratch' });
      f.users.set('db-data', ['c1']);
      const names = (filters: Record<string, string[]>) => f.svc.list(filters).Volumes.map((v) => v.Name);
      assert.deepEqual(names({}), ['db-data', 'scratch', 'web-data']);
      assert.equal(f.svc.list({}).Warnings, null);
      assert.deepEqual(names({ dangling: ['true'] }), ['scratch', 'web-data']);
      assert.deepEqual(names({ dangling: ['0'] }), ['db-data']);
      assert.deepEqual(names({ name: ['data'] }), ['db-data', 'web-data']);
      assert.deepEqual(names({ name: ['^scr'] }), ['scratch']);
      assert.deepEqual(names({ label: ['app'] }), ['db-data', 'web-data']);
      assert.deepEqual(names({ label: ['app=web'] }), ['web-data']);
      assert.deepEqual(names({ label: ['app', 'tier=front'] }), ['web-data']);
      assert.deepEqual(names({ driver: ['local'] }), ['db-data', 'scratch', 'web-data']);
      assert.deepEqual(names({ driver: ['other'] }), []);
      assert.throws(() => f.svc.list({ color: ['red'] }), code('INVALID_PARAMETER', "invalid filter 'color'"));
      assert.throws(() => f.svc.list({ dangling: ['yes'] }), code('INVALID_PARAMETER', "invalid filter 'dangling=[yes]'"));
    } finally {
      await f.done();
    }
  });

  it('prunes unused anonymous volumes, or all unused ones with all=true', async () => {
    const f = await fixture();
    try {
      const anon = (await f.svc.create({})).Name;
      const anonBusy = (await f.svc.create({})).Name;
      await f.svc.create({ Name: 'named', Labels: { keep: 'no' } });
      await f.svc.create({ Name: 'withopts', DriverOpts: { type: 'tmpfs', device: 'tmpfs' } });
      f.users.set(anonBusy, ['c1']);
      await writeFile(join(f.svc.inspect(anon).Mountpoint, 'f'), Buffer.alloc(1000));
      await mkdir(join(f.svc.inspect(anon).Mountpoint, 'd'));
      await writeFile(join(f.svc.inspect(anon).Mountpoint, 'd', 'g'), Buffer.alloc(24));
      assert.deepEqual(await f.svc.prune({}), { VolumesDeleted: [anon], SpaceReclaimed: 1024 });
      assert.deepEqual(await f.svc.prune({}), { VolumesDeleted: [], SpaceReclaimed: 0 });
      assert.deepEqual((await f.svc.prune({ all: ['true'], label: ['keep=yes'] })).VolumesDeleted, []);
      assert.deepEqual((await f.svc.prune({ all: ['true'], 'label!': ['keep'] })).VolumesDeleted, []);
      assert.deepEqual((await f.svc.prune({ all: ['1'] })).VolumesDeleted, ['named']);
      assert.deepEqual(f.svc.list({}).Volumes.map((v) => v.Name).sort(), [anonBusy, 'withopts'].sort());
      await assert.rejects(f.svc.prune({ all: ['maybe'] }), code('INVALID_PARAMETER', `invalid filter 'all': strconv.ParseBool: parsing "maybe": invalid syntax`));
      await assert.rejects(f.svc.prune({ dangling: ['true'] }), code('INVALID_PARAMETER', "invalid filter 'dangling'"));
    } finally {
      await f.done();
    }
  });

  it('describes how containers mount plain, tmpfs and bind-device volumes', async () => {
    const f = await fixture();
    try {
      await f.svc.create({ Name: 'plain' });
      assert.deepEqual(await f.svc.mountSource('plain'), { source: f.svc.inspect('plain').Mountpoint, type: 'bind' });
      assert.equal(await f.svc.isEmpty('plain'), true);
      await writeFile(join(f.svc.inspect('plain').Mountpoint, 'x'), 'x');
      assert.equal(await f.svc.isEmpty('plain'), false);

      await f.svc.create({ Name: 'tmp', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' } });
      assert.deepEqual(await f.svc.mountSource('tmp'), { source: 'tmpfs', type: 'tmpfs', options: ['size=1m', 'uid=1000'], device: 'tmpfs', fstype: 'tmpfs' });

      const host = join(f.dir, 'host');
      await mkdir(host);
      await f.svc.create({ Name: 'bound', DriverOpts: { type: 'none', o: 'bind', device: host } });
      assert.deepEqual(await f.svc.mountSource('bound'), { source: host, type: 'bind', options: [], device: host, fstype: 'none' });

      await f.svc.create({ Name: 'gone', DriverOpts: { type: 'none', o: 'bind', device: join(f.dir, 'missing') } });
      const data = f.svc.inspect('gone').Mountpoint;
      await assert.rejects(
        f.svc.mountSource('gone'),
        (err: Error) => err.message === `error while mounting volume '${data}': failed to mount local volume: mount ${join(f.dir, 'missing')}:${data}, flags: 0x1000: no such file or directory`,
      );
      await assert.rejects(f.svc.mountSource('nope'), code('NOT_FOUND', 'get nope: no such volume'));
    } finally {
      await f.done();
    }
  });

  it('formats CreatedAt as Go RFC 3339', () => {
    const d = new Date(Date.UTC(2026, 10, 26, 23, 0, 0, 123));
    const s = rfc3339(d);
    if (d.getTimezoneOffset() === 0) assert.equal(s, '2026-11-26T23:00:00Z');
    assert.equal(Date.parse(s), Date.UTC(2026, 10, 26, 23, 0, 0));
  });
});

const canMount = process.getuid?.() === 0;

describe('VolumeService host mounts', { skip: !canMount && 'needs root' }, () => {
  it('mounts a device volume on first use, once, and unmounts it on remove', async () => {
    const f = await fixture();
    try {
      // type=tmpfs is a per-container tmpfs; any other type is mounted on _data (ramfs needs no device).
      await f.svc.create({ Name: 'dev', DriverOpts: { type: 'ramfs', device: 'ramfs' } });
      const data = f.svc.inspect('dev').Mountpoint;
      const src = await f.svc.mountSource('dev');
      assert.deepEqual(src, { source: data, type: 'mount', options: [], device: 'ramfs', fstype: 'ramfs' });
      assert.equal(await hostMounter.isMounted(data), true);
      await f.svc.mountSource('dev'); // already mounted: no second mount
      await writeFile(join(data, 'file'), 'x');
      assert.equal(await f.svc.isEmpty('dev'), false);
      await f.svc.remove('dev', { force: false });
      assert.equal(await hostMounter.isMounted(data), false);
    } finally {
      await f.done();
    }
  });

  it('mounts and unmounts a real tmpfs through the adapter', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-tmpfs-'));
    try {
      await hostMounter.mount('tmpfs', 'tmpfs', dir, ['size=1m', 'mode=0700']);
      try {
        assert.equal(await hostMounter.isMounted(dir), true);
        assert.equal((await stat(dir)).mode & 0o777, 0o700);
      } finally {
        await hostMounter.unmount(dir);
      }
      assert.equal(await hostMounter.isMounted(dir), false);
      await assert.rejects(hostMounter.mount('nosuchfs', 'x', dir, []));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a failed device mount with dockerd wording', async () => {
    const f = await fixture();
    try {
      await f.svc.create({ Name: 'bad', DriverOpts: { type: 'ext4', device: join(f.dir, 'no-device') } });
      const data = f.svc.inspect('bad').Mountpoint;
      await assert.rejects(f.svc.mountSource('bad'), (err: Error) => err.message.startsWith(`error while mounting volume '${data}': failed to mount local volume: `));
      assert.equal(await hostMounter.isMounted(data), false);
      await f.svc.remove('bad', { force: false });
    } finally {
      await f.done();
    }
  });
});
