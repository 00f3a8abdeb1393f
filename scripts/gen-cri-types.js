#!/usr/bin/env node
// Generates the CRI message types (src/cri/generated/) from the upstream runtime.v1 proto, before
// tsc runs. The gogoproto lines (Go code generation options) are dropped, as the loader does.
// The protos themselves are copied beside the compiled loader (dist/src/cri/proto/), which reads
// them at start: dist/ is all an installed Berth needs.
'use strict';
const { execFileSync } = require('node:child_process');
const { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

const root = join(__dirname, '..');
const out = join(root, 'src', 'cri', 'generated');
const tmp = mkdtempSync(join(tmpdir(), 'berth-cri-proto-'));
try {
  const text = readFileSync(join(root, 'src', 'cri', 'proto', 'api-v1.proto'), 'utf8');
  writeFileSync(join(tmp, 'api.proto'), text.split('\n').filter((l) => !/gogoproto/.test(l)).join('\n'));
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js'), 'api.proto', '--grpcLib=@grpc/grpc-js', '--keepCase', '--longs=String', '--enums=String', '--defaults', '--oneofs', `--outDir=${out}`, `--includeDirs=${tmp}`],
    { stdio: 'inherit' },
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const protoOut = join(root, 'dist', 'src', 'cri', 'proto');
mkdirSync(protoOut, { recursive: true });
for (const name of ['api-v1.proto', 'api-v1alpha2.proto']) copyFileSync(join(root, 'src', 'cri', 'proto', name), join(protoOut, name));
