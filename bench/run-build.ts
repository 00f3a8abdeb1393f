/**
 * `docker build` with the classic builder, Berth and (when installed) Debian's dockerd side by
 * side, alternating, on a small Dockerfile typical of an application image: FROM busybox, ARG,
 * ENV, WORKDIR, two COPYs (a script and a directory of 200 small files), two RUNs, LABEL,
 * EXPOSE, USER, CMD (11 steps).
 *
 *  a. `docker build --no-cache --network none`: every step runs, N runs (default 5);
 *  b. the same build again with the cache: every step is a cache hit, N runs.
 *
 *   node dist/bench/run-build.js [N] [--only berth|dockerd]
 *
 * Times are the stock CLI's wall clock from spawn to exit. Needs root; everything is removed at
 * the end, also after a failure or Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBenchArgs, runBench } from './cli';
import { printComparison } from './report';
import { Session } from './session';

const FILES = 200;

function writeContext(dir: string): string {
  const root = join(dir, 'build-context');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(
    join(root, 'Dockerfile'),
    [
      'FROM busybox',
      'ARG VERSION=1.0',
      'ENV APP_HOME=/srv/app',
      'WORKDIR $APP_HOME',
      'COPY start.sh ./',
      'COPY assets/ ./assets/',
      'RUN echo "version $VERSION" > version.txt && ls assets | wc -l > count.txt',
      'RUN adduser -D -H app 2>/dev/null || true',
      'LABEL org.example.app="bench"',
      'EXPOSE 8080',
      'CMD ["./start.sh"]',
    ].join('\n'),
  );
  writeFileSync(join(root, 'start.sh'), '#!/bin/sh\ncat version.txt\n', { mode: 0o755 });
  for (let i = 0; i < FILES; i++) writeFileSync(join(root, 'assets', `file-${i}.txt`), `asset ${i}\n`.repeat(20));
  return root;
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-build.js [N] [--only berth|dockerd]', 5);
  const session = new Session(opts.only);
  try {
    await session.startDaemons();
    const root = writeContext(session.dir);
    const build = (extra: string[]) => ['build', '--network', 'none', ...extra, '-t', 'bench-built:1', root];
    for (const d of session.daemons) await d.dockerOk(build([]), 300_000); // fills the cache
    const fresh = await session.alternate(opts.runs, 1, 'build --no-cache', async (d) => (await d.dockerOk(build(['--no-cache']), 300_000)).ms);
    const cached = await session.alternate(opts.runs, 1, 'build (cached)', async (d) => {
      const r = await d.dockerOk(build([]), 300_000);
      if (!r.stdout.includes('Using cache')) throw new Error(`${d.name}: the rebuild did not use the cache`);
      return r.ms;
    });
    printComparison(`docker build --no-cache (11 steps, ${FILES} files copied): ${opts.runs} runs per daemon, alternating`, session.daemons, fresh, session.about);
    printComparison(`docker build, every step from the cache: ${opts.runs} runs per daemon, alternating`, session.daemons, cached, session.about);
    return 0;
  } finally {
    await session.cleanup();
  }
}

runBench(main);
