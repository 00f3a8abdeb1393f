#!/usr/bin/env node
// Checks that every import in src/ points down the layers of docs/design (api → engine →
// runtime / network / host → errors) and that the modules form no circle.
// Usage: node scripts/check-imports.js [srcDir]   (exit 1 and a list of offences when broken)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'src'));

// Rank of each room; an import may point at a room of lower rank, or inside its own room.
// Rooms of equal rank are siblings and may not import each other.
// Files directly under src/ (daemon, cli, config) compose the rooms and may import any of them.
const LAYERS = {
  api: 40,
  cri: 40,
  engine: 30,
  runtime: 20,
  network: 20,
  host: 10,
  errors: 0,
};

// Inside the engine the same rule holds between its folders: a resource may use what sits
// below it, never what sits beside or above it. Files directly under engine/ are shared helpers.
const ENGINE_ROOMS = {
  system: 90,
  builder: 80,
  swarm: 80,
  plugins: 80,
  containers: 70,
  networks: 60,
  volumes: 60,
  images: 50,
  registry: 40,
  dockerfile: 30,
  events: 20,
  store: 20,
};

function roomOf(file) {
  const rel = path.relative(root, file).split(path.sep);
  if (rel.length === 1) {
    const base = rel[0].replace(/\.ts$/, '');
    return base in LAYERS ? { layer: base, rank: LAYERS[base] } : { layer: '(root)', rank: 100 };
  }
  const layer = rel[0];
  if (!(layer in LAYERS)) return { layer, rank: 100 };
  if (layer === 'engine') {
    if (rel.length === 2) return { layer, sub: '(shared)', rank: LAYERS.engine, subRank: 0 };
    const sub = rel[1];
    return { layer, sub, rank: LAYERS.engine, subRank: ENGINE_ROOMS[sub] ?? 0 };
  }
  return { layer, rank: LAYERS[layer] };
}

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm;

function resolve(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const cand of [base + '.ts', path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(cand) && fs.statSync(cand).isFile()) return cand;
  }
  return null;
}

/** Imports that vanish at compile time (`import type`) still count: they are design arrows. */
function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const found = [];
  for (const m of text.matchAll(IMPORT)) {
    const target = resolve(file, m[1]);
    // Data files above src/ (package.json for the version) are not modules of a layer.
    if (/\.json$/.test(m[1]) && !path.resolve(path.dirname(file), m[1]).startsWith(root + path.sep)) continue;
    if (target) found.push(target);
    else found.push({ missing: m[1] });
  }
  return found;
}

const files = walk(root);
const graph = new Map();
const offences = [];
for (const f of files) {
  const deps = [];
  for (const t of importsOf(f)) {
    if (typeof t !== 'string') {
      offences.push(`${rel(f)}: import '${t.missing}' does not resolve`);
      continue;
    }
    deps.push(t);
    const a = roomOf(f);
    const b = roomOf(t);
    if (a.layer === '(root)') continue;
    if (a.layer !== b.layer) {
      if (b.rank >= a.rank) offences.push(`${rel(f)} → ${rel(t)}: ${a.layer} may not import ${b.layer}`);
      continue;
    }
    if (a.layer === 'engine' && a.sub !== b.sub && b.sub !== '(shared)') {
      if (a.sub === '(shared)' || b.subRank >= a.subRank) {
        offences.push(`${rel(f)} → ${rel(t)}: engine/${a.sub} may not import engine/${b.sub}`);
      }
    }
  }
  graph.set(f, deps);
}

function rel(f) {
  return path.relative(root, f);
}

// Circles: Tarjan's strongly connected components over the file graph.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const circles = [];
function strong(v) {
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) {
      low.set(v, Math.min(low.get(v), idx.get(w)));
    }
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(comp);
  }
}
for (const f of files) if (!idx.has(f)) strong(f);
for (const c of circles) offences.push(`circle: ${c.map(rel).sort().join(' ↔ ')}`);

if (offences.length > 0) {
  for (const o of offences) console.error(o);
  console.error(`${offences.length} import offence(s) in ${rel(root) || root}`);
  process.exit(1);
}
console.log(`imports: ${files.length} modules, every arrow points down, no circle`);
