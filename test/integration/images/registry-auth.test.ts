import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER, startBerth, type Berth } from '../harness';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../registry-fixture';
import { startTokenServer, type TokenServer } from '../token-server';

const skip = !existsSync(REGISTRY_BIN) && 'docker-registry is not installed';

/** The same CLI story against a registry with htpasswd basic auth and one with bearer tokens. */
for (const scheme of ['basic', 'bearer'] as const) {
  describe(`docker login and authenticated push/pull (${scheme} auth)`, { skip }, () => {
    let berth: Berth;
    let registry: TestRegistry;
    let tokens: TokenServer | undefined;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-auth-'));
      berth = await startBerth();
      if (scheme === 'basic') {
        registry = await startRegistry({ user: 'alice', password: 's3cret' });
      } else {
        tokens = await startTokenServer(dir, { user: 'alice', password: 's3cret' });
        registry = await startRegistry({ token: tokens });
      }
    });
    after(async () => {
      await berth?.cleanup();
      await registry?.stop();
      await tokens?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /**
     * The CLI with its own config dir, so logins never touch the real ~/.docker. Asynchronous:
     * the token server answers from this process.
     */
    const cli = (args: string[], input?: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(DOCKER, args, { env: { ...process.env, DOCKER_HOST: `unix://${berth.socket}`, DOCKER_CONFIG: dir } });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d));
        p.stderr.on('data', (d: Buffer) => (stderr += d));
        p.stdin.end(input ?? '');
        p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });

    it("refuses a push without credentials and a login with wrong ones, with the CLI's messages", async () => {
      const ref = `${registry.domain}/team/app:1`;
      berth.ok(['tag', 'busybox', ref]);
      const anon = await cli(['push', ref]);
      assert.notEqual(anon.code, 0);
      assert.match(anon.stderr + anon.stdout, /unauthorized/);
      const wrong = await cli(['login', '-u', 'alice', '--password-stdin', registry.domain], 'nope\n');
      assert.notEqual(wrong.code, 0);
      // dockerd's texts: the registry's own 401 for basic auth, the token server's details for bearer.
      assert.match(wrong.stderr, scheme === 'basic' ? /login attempt to .*\/v2\/ failed with status: 401 Unauthorized/ : /Get ".*\/v2\/": unauthorized: incorrect username or password/);
    });

    it('docker login then push and pull with X-Registry-Auth', async () => {
      const login = await cli(['login', '-u', 'alice', '--password-stdin', registry.domain], 's3cret\n');
      assert.equal(login.code, 0, login.stderr);
      assert.match(login.stdout, /Login Succeeded/);
      const ref = `${registry.domain}/team/app:1`;
      const id = JSON.parse(berth.ok(['image', 'inspect', ref]))[0].Id;
      const push = await cli(['push', ref]);
      assert.equal(push.code, 0, push.stderr);
      berth.ok(['rmi', ref]);
      const pull = await cli(['pull', ref]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, /Status: Downloaded newer image/);
      assert.equal(JSON.parse(berth.ok(['image', 'inspect', ref]))[0].Id, id);
      // Another repository: the layer is mounted from team/app (the token covers both repositories).
      const other = `${registry.domain}/team/other:1`;
      berth.ok(['tag', ref, other]);
      const mounted = await cli(['push', other]);
      assert.equal(mounted.code, 0, mounted.stderr);
      assert.match(mounted.stdout, /Mounted from team\/app/);
      if (tokens) {
        assert.ok(tokens.requests.includes('alice repository:team/other:pull,push repository:team/app:pull'), tokens.requests.join('\n'));
        // Tokens were asked for with the repository's scope: push and pull for the push, pull for the pull.
        assert.ok(tokens.requests.includes('alice repository:team/app:pull,push'), tokens.requests.join('\n'));
        assert.ok(tokens.requests.includes('alice repository:team/app:pull'), tokens.requests.join('\n'));
      }
    });

    it('docker build pulls a private base image with the credentials of docker login (X-Registry-Config), and --pull pulls again', async () => {
      const base = `${registry.domain}/team/app:1`;
      berth.ok(['rmi', base]);
      const ctx = join(dir, 'build-context');
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nRUN echo built-on-private > /private.txt\n`);
      const built = await cli(['build', '-t', 'from-private:1', ctx]);
      assert.equal(built.code, 0, built.stderr);
      assert.match(built.stdout, /Downloaded newer image|Pull complete|Already exists/);
      assert.equal(berth.ok(['run', '--rm', 'from-private:1', 'cat', '/private.txt']), 'built-on-private\n');
      const again = await cli(['build', '--pull', '-t', 'from-private:1', ctx]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /Image is up to date for/);
      assert.match(again.stdout, /Using cache/);
    });
  });
}
