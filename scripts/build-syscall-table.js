#!/usr/bin/env node
'use strict';
// Writes dist/src/runtime/builtin/syscalls.json: the system call numbers of the architecture this
// is built on, as the C headers of Debian's gcc/libc6-dev (linux-libc-dev) define them. The
// seccomp compiler (src/runtime/builtin/seccomp-bpf.ts) turns a profile's syscall names into
// these numbers. Nothing is copied by hand: the preprocessor lists every `__NR_<name>` macro of
// <sys/syscall.h>, and a macro defined through others (asm-generic's `__NR_fcntl __NR3264_fcntl`,
// arm's `(__NR_SYSCALL_BASE + 0)`) is resolved from the same list.
const { spawnSync } = require('node:child_process');
const { mkdirSync, statSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const output = join(root, 'dist/src/runtime/builtin/syscalls.json');
const cc = process.env.CC || 'gcc';

/** gcc's target triple → the kernel's audit architecture of its native system calls. */
const AUDIT_ARCHES = {
  x86_64: { auditArch: 0xc000003e, scmpArch: 'SCMP_ARCH_X86_64' },
  aarch64: { auditArch: 0xc00000b7, scmpArch: 'SCMP_ARCH_AARCH64' },
};

/** `__NR_` macros that are counts or markers, not system calls. */
const NOT_SYSCALLS = new Set(['syscalls', 'arch_specific_syscall']);

function fail(message) {
  console.error(`${message}; the syscall table needs a C compiler and the libc headers: apt-get install gcc libc6-dev`);
  process.exit(1);
}

function run(args, input) {
  const r = spawnSync(cc, args, { input, encoding: 'utf8' });
  if (r.error || r.status !== 0) fail(`${cc} ${args.join(' ')} failed (${r.error?.message ?? r.stderr.trim()})`);
  return r.stdout;
}

function mtime(path) {
  try { return statSync(path).mtimeMs; } catch { return -1; }
}

const machine = run(['-dumpmachine']).trim();
const cpu = machine.split('-')[0];
const arch = AUDIT_ARCHES[cpu];
if (!arch) fail(`no seccomp audit architecture known for ${machine}`);

const headerFiles = run(['-M', '-E', '-x', 'c', '-'], '#include <sys/syscall.h>\n').split(/\s+/).filter((p) => p.startsWith('/'));
if (mtime(output) > mtime(__filename) && headerFiles.every((p) => mtime(p) < mtime(output))) process.exit(0);

/** Every object-like macro of <sys/syscall.h>: name → its replacement text. */
const macros = new Map();
for (const line of run(['-dM', '-E', '-x', 'c', '-'], '#include <sys/syscall.h>\n').split('\n')) {
  const m = /^#define ([A-Za-z_][A-Za-z0-9_]*) (.*)$/.exec(line);
  if (m) macros.set(m[1], m[2].trim());
}

/** Evaluates a replacement text made of integers, macro names, `+`, `-` and parentheses. */
function evaluate(text, seen = new Set()) {
  const tokens = text.match(/0x[0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_]*|[()+-]|\S/g) ?? [];
  let pos = 0;
  const term = () => {
    const t = tokens[pos++];
    if (t === '(') {
      const v = sum();
      if (tokens[pos++] !== ')') throw new Error(`unbalanced parentheses in "${text}"`);
      return v;
    }
    if (t === '-') return -term();
    if (/^(0x[0-9a-fA-F]+|\d+)$/.test(t ?? '')) return Number(t);
    if (t && macros.has(t) && !seen.has(t)) return evaluate(macros.get(t), new Set([...seen, t]));
    throw new Error(`cannot evaluate "${text}" (at "${t}")`);
  };
  const sum = () => {
    let v = term();
    while (tokens[pos] === '+' || tokens[pos] === '-') v = tokens[pos++] === '+' ? v + term() : v - term();
    return v;
  };
  const v = sum();
  if (pos !== tokens.length) throw new Error(`cannot evaluate "${text}"`);
  return v;
}

const syscalls = {};
for (const [macro, text] of macros) {
  if (!macro.startsWith('__NR_')) continue;
  const name = macro.slice('__NR_'.length);
  if (NOT_SYSCALLS.has(name)) continue;
  let nr;
  try {
    nr = evaluate(text);
  } catch (err) {
    fail(`${macro}: ${err.message}`);
  }
  if (!Number.isInteger(nr) || nr < 0) fail(`${macro} is ${text}, not a system call number`);
  syscalls[name] = nr;
}
if (Object.keys(syscalls).length < 100 || syscalls.read === undefined) fail(`<sys/syscall.h> of ${machine} lists no system calls`);

const sorted = Object.fromEntries(Object.entries(syscalls).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
mkdirSync(join(root, 'dist/src/runtime/builtin'), { recursive: true });
writeFileSync(output, `${JSON.stringify({ machine, cpu, ...arch, syscalls: sorted }, null, 1)}\n`);
