/**
 * A real registry (Debian's docker-registry, distribution v2) on 127.0.0.1 for tests: its own
 * port, storage dir and config, optionally with htpasswd basic auth or bearer-token auth. No side effects at import.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './harness';
import { waitFor } from './wait';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:<port>` as image references name it. */
  domain: string;
  /** Where the registry keeps blobs (`<root>/docker/registry/v2/...`). */
  storage: string;
  stop(): Promise<void>;
}

/** bcrypt for htpasswd, from the host's crypt (libxcrypt supports `$2b$`). */
function bcrypt(password: string): string {
  const r = spawnSync('python3', ['-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot hash a password: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * A CA and a server certificate for 127.0.0.1 signed by it (openssl), for a TLS registry.
 * Returns the PEM paths.
 */
export function makeTlsFiles(dir: string): { ca: string; cert: string; key: string; clientCert: string; clientKey: string } {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=berth test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=berth test client']);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  run(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.cert', '-days', '2', '-extfile', 'client.ext']);
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), clientCert: join(dir, 'client.cert'), clientKey: join(dir, 'client.key') };
}

export interface RegistryOptions {
  /** htpasswd basic auth with this one account. */
  user?: string;
  password?: string;
  /** Bearer-token auth against a token server (see token-server.ts). */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** HTTPS; with `clientCa`, only clients with a certificate it signed are served. */
  tls?: { cert: string; key: string; clientCa?: string };
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
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
    ...(opts.tls ? ['  tls:', `    certificate: ${opts.tls.cert}`, `    key: ${opts.tls.key}`] : []),
    ...(opts.tls?.clientCa ? ['    clientcas:', `      - ${opts.tls.clientCa}`] : []),
  ];
  if (opts.user) {
    writeFileSync(join(dir, 'htpasswd'), `${opts.user}:${bcrypt(opts.password ?? '')}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${join(dir, 'htpasswd')}`);
  } else if (opts.token) {
    const t = opts.token;
    lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootCertBundle}`);
  }
  writeFileSync(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const domain = `127.0.0.1:${port}`;
  // With TLS the registry answers plain HTTP with 400; any answer means it is up.
  await waitFor(() => fetch(`http://${domain}/v2/`).then((r) => r.status === 200 || r.status === 401 || r.status === 400), { what: `the registry on ${domain}` });
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
