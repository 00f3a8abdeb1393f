#!/usr/bin/env node
'use strict';
// Builds Berth's one native addon, src/runtime/native/seqpacket.c (conmon's SOCK_SEQPACKET attach
// socket), into dist/src/runtime/native/seqpacket.node beside the compiled module that loads it.
// It needs only a C compiler (Debian: gcc libc6-dev) and the N-API headers of the
// `node-api-headers` package: no node-gyp, no headers of the installed Node, nothing downloaded.
// N-API is ABI-stable, so one build serves every Node version >= the one NAPI_VERSION names.
const { spawnSync } = require('node:child_process');
const { mkdirSync, statSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const source = join(root, 'src/runtime/native/seqpacket.c');
const output = join(root, 'dist/src/runtime/native/seqpacket.node');

function mtime(path) {
  try { return statSync(path).mtimeMs; } catch { return -1; }
}

if (!(mtime(output) > mtime(source) && mtime(output) > mtime(__filename))) {
  const { include_dir: includeDir } = require('node-api-headers');
  mkdirSync(join(root, 'dist/src/runtime/native'), { recursive: true });
  const cc = process.env.CC || 'gcc';
  const args = [
    '-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11',
    '-shared', '-fPIC', '-pthread',
    '-DNODE_GYP_MODULE_NAME=seqpacket',
    '-I', includeDir,
    '-o', output, source,
  ];
  const r = spawnSync(cc, args, { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    console.error(`building ${source} failed (${r.error?.message ?? `${cc} exited with ${r.status}`}); ` +
      'it needs a C compiler: apt-get install gcc libc6-dev');
    process.exit(1);
  }
}

// Berth's built-in OCI runtime executor (docs/builtin-runtime.md): every C file of
// src/runtime/builtin/native into dist/src/runtime/builtin/berth-runtime. glibc only; the
// absolute path of this Node is compiled in for compiling plans of bundles nobody prepared.
{
  const { readdirSync } = require('node:fs');
  const srcDir = join(root, 'src/runtime/builtin/native');
  const outDir = join(root, 'dist/src/runtime/builtin');
  const binary = join(outDir, 'berth-runtime');
  const sources = readdirSync(srcDir).filter((f) => /\.[ch]$/.test(f)).map((f) => join(srcDir, f));
  const newest = Math.max(mtime(__filename), ...sources.map(mtime));
  if (mtime(binary) <= newest) {
    mkdirSync(outDir, { recursive: true });
    const cc = process.env.CC || 'gcc';
    const args = [
      '-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11',
      `-DBERTH_NODE=${JSON.stringify(process.execPath)}`,
      '-o', binary, ...sources.filter((f) => f.endsWith('.c')),
    ];
    const r = spawnSync(cc, args, { stdio: 'inherit' });
    if (r.error || r.status !== 0) {
      console.error(`building ${binary} failed (${r.error?.message ?? `${cc} exited with ${r.status}`}); ` +
        'it needs a C compiler: apt-get install gcc libc6-dev');
      process.exit(1);
    }
  }
}

/**
 * One of Berth's helper programs under src/host/native/ into dist/src/host/<binary>, beside the
 * compiled module that runs it; rebuilt when the source or this script is newer.
 */
function buildHostHelper(sourceName, binaryName, extraFlags = [], needs = 'a C compiler: apt-get install gcc libc6-dev') {
  const source = join(root, 'src/host/native', sourceName);
  const outDir = join(root, 'dist/src/host');
  const binary = join(outDir, binaryName);
  if (mtime(binary) > Math.max(mtime(__filename), mtime(source))) return;
  mkdirSync(outDir, { recursive: true });
  const cc = process.env.CC || 'gcc';
  const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11', ...extraFlags, '-o', binary, source], { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    console.error(`building ${binary} failed (${r.error?.message ?? `${cc} exited with ${r.status}`}); it needs ${needs}`);
    process.exit(1);
  }
}

// The idmapped rootfs mounter of userns-remap (src/host/idmapped-overlay.ts runs it).
buildHostHelper('idmapped-overlay.c', 'berth-idmapped-overlay');
// The CRI PortForward's connector (src/host/netns-connect.ts).
buildHostHelper('netns-connect.c', 'berth-netns-connect');
// The pods' infra process, static: the one file of the infra image Berth makes itself
// (src/cri/infra-image.ts).
buildHostHelper('pause.c', 'berth-pause', ['-static', '-s'], 'a C compiler and a static libc: apt-get install gcc libc6-dev');
