import { Level } from 'level';
import { KEY, SCHEMA_VERSION } from './schema';

export type BatchOp = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string };

/** Migrations of the key schema (./schema) from version N to N+1, keyed by N. Empty until it first changes. */
const MIGRATIONS: Record<number, (store: Store) => Promise<void>> = {};

/** A thin typed wrapper over LevelDB: JSON values, prefix scans and atomic batches. */
export class Store {
  private readonly db: Level<string, string>;

  constructor(path: string) {
    // The store holds small records the engine also keeps in memory: LevelDB's defaults (a 4 MiB
    // memtable, twice during a flush, and an 8 MiB block cache) would fill over a few hundred
    // container lifecycles and stay resident for no gain.
    this.db = new Level<string, string>(path, { valueEncoding: 'utf8', writeBufferSize: 512 * 1024, cacheSize: 1024 * 1024 });
  }

  async open(): Promise<void> {
    await this.db.open();
    const version = await this.get<number>(KEY.schemaVersion);
    let current = version ?? SCHEMA_VERSION;
    while (current < SCHEMA_VERSION) {
      const migrate = MIGRATIONS[current];
      if (!migrate) throw new Error(`no migration from store schema version ${current}`);
      await migrate(this);
      current += 1;
    }
    if (version !== SCHEMA_VERSION) await this.put(KEY.schemaVersion, SCHEMA_VERSION);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async get<T>(key: string): Promise<T | undefined> {
    const raw = await this.db.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.db.put(key, JSON.stringify(value));
  }

  async del(key: string): Promise<void> {
    await this.db.del(key);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    await this.db.batch(
      ops.map((op) =>
        op.type === 'put' ? { type: 'put', key: op.key, value: JSON.stringify(op.value) } : op,
      ),
    );
  }

  /** All values whose key starts with `prefix`, in key order. */
  async list<T>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    const out: Array<{ key: string; value: T }> = [];
    for await (const [key, value] of this.db.iterator({ gte: prefix, lt: prefix + '\xff' })) {
      out.push({ key, value: JSON.parse(value) as T });
    }
    return out;
  }
}
