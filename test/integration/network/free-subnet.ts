/**
 * Test subnets that no route on this host uses and no other test process holds. Test files run
 * in parallel (test/run.sh), each in its own process: a subnet is leased by creating
 * `<tmp>/berth-test-subnets/<prefix>` exclusively, holding the owner's pid. A lease whose process
 * has ended is taken over, so nothing needs releasing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LEASES = join(tmpdir(), 'berth-test-subnets');

/** A 10.<second>.X.0/24 subnet no route on this host uses yet (other daemons run tests here too). */
export function freeSubnet(second: number): string {
  mkdirSync(LEASES, { recursive: true });
  const routes = execFileSync('ip', ['-4', 'route']).toString();
  for (let i = 0; i < 200; i++) {
    const prefix = `10.${second}.${1 + Math.floor(Math.random() * 250)}`;
    if (!routes.includes(`${prefix}.`) && lease(prefix)) return `${prefix}.0/24`;
  }
  throw new Error(`no free 10.${second}.X.0/24 subnet`);
}

/** `freeSubnet`'s gateway form for `--bip`: 10.<second>.X.1/24. */
export function freeBip(second: number): string {
  return freeSubnet(second).replace(/\.0\/24$/, '.1/24');
}

function lease(prefix: string): boolean {
  const file = join(LEASES, prefix);
  if (claim(file)) return true;
  let owner: number;
  try {
    // Empty: just created, its pid not written yet.
    owner = Number(readFileSync(file, 'utf8').trim() || process.pid);
  } catch {
    return false;
  }
  if (owner === process.pid || alive(owner)) return false;
  rmSync(file, { force: true });
  return claim(file);
}

function claim(file: string): boolean {
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
