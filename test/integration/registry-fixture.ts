/**
 * A real registry (Debian's docker-registry, distribution v2) on 127.0.0.1 for tests: its own
 * port, storage dir and config, optionally with htpasswd basic auth. No side effects at import.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:<port>` as image references name it. */
  domain: string;
  /** Where the registry keeps blobs (`<root>/docker/registry/v2/...`). */
  storage: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** bcrypt for htpasswd, from the host's crypt (libxcrypt supports `$2b$`). */
function bcrypt(password: string): string {
  const r = spawnSync('python3', ['-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot hash a password: ${r.stderr}`);
  return r.stdout.trim();
}

export async function startRegistry(opts: { user?: string; password?: string } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const port = await freePort();
  const storage = join(dir, 'data');
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (opts.user) {
    writeFileSync(join(dir, 'htpasswd'), `${opts.user}:${bcrypt(opts.password ?? '')}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  writeFileSync(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const domain = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://${domain}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    domain,
    storage,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
