/**
 * A registry token server for tests (the distribution "token" auth scheme): GET /token with Basic
 * credentials answers a JWT signed RS256 by a key whose self-signed certificate the registry
 * trusts (`rootcertbundle`), carried in the `x5c` header. Anonymous callers get a token with no
 * access, as public token servers do for private repositories. No side effects at import.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface TokenServer {
  /** What the registry's `auth.token` section names. */
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
  /** Token requests seen, as `<user or -> <scope...>`. */
  requests: string[];
  stop(): Promise<void>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export async function startTokenServer(dir: string, account: { user: string; password: string }): Promise<TokenServer> {
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '2', '-subj', '/CN=berth test token issuer'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const key = readFileSync(join(dir, 'token.key'));
  const certDer = new X509Certificate(readFileSync(join(dir, 'token.crt'))).raw.toString('base64');
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const requests: string[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const [user, password] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
    const scopes = url.searchParams.getAll('scope');
    requests.push(`${user ?? '-'} ${scopes.join(' ')}`.trim());
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    if (basic && (user !== account.user || password !== account.password)) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    // `repository:<name>:<actions>`; the account may pull and push anything, anonymous nothing.
    const access = user
      ? scopes.map((s) => s.split(':')).filter((p) => p.length === 3 && p[0] === 'repository').map(([type, name, actions]) => ({ type, name, actions: actions.split(',') }))
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signed}.${b64url(sign('sha256', Buffer.from(signed), key))}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: join(dir, 'token.crt'),
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
