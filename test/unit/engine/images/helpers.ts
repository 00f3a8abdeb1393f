/** Shared setup for the image engine's unit tests: a temp dir, a store and a quiet logger. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ImageService, type ImageServiceDeps } from '../../../../src/engine/images/image-service';
import { Store } from '../../../../src/engine/store/store';

export const quietLog = pino({ level: 'silent' });

/** Fixture tarballs shared by the test files (cached by content). */
export const FIXTURES = join(tmpdir(), 'berth-unit-fixtures');

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `berth-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface ServiceHarness {
  dir: string;
  root: string;
  store: Store;
  images: ImageService;
  /** Containers using each image, as the container service would report them. */
  users: Map<string, string[]>;
  running: Set<string>;
  /** Reopens the service on the same store and root (a daemon restart). */
  restart(): Promise<ImageService>;
  cleanup(): Promise<void>;
}

export async function serviceHarness(extra: Partial<ImageServiceDeps> = {}): Promise<ServiceHarness> {
  const { dir, cleanup } = await tempDir('images');
  const store = new Store(join(dir, 'db'));
  await store.open();
  const root = join(dir, 'image');
  const users = new Map<string, string[]>();
  const running = new Set<string>();
  const make = () =>
    new ImageService({
      store,
      root,
      log: quietLog,
      imageUsers: async (id) => users.get(id) ?? [],
      containerRunning: (id) => running.has(id),
      ...extra,
    });
  const h: ServiceHarness = {
    dir,
    root,
    store,
    images: make(),
    users,
    running,
    async restart() {
      h.images = make();
      await h.images.init();
      return h.images;
    },
    async cleanup() {
      await store.close();
      await cleanup();
    },
  };
  await h.images.init();
  return h;
}
