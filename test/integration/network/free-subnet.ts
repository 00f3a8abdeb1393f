import { execFileSync } from 'node:child_process';

/** A 10.<second>.X.0/24 subnet no route on this host uses yet (other daemons run tests here too). */
export function freeSubnet(second: number): string {
  const routes = execFileSync('ip', ['-4', 'route']).toString();
  for (let i = 0; i < 200; i++) {
    const prefix = `10.${second}.${1 + Math.floor(Math.random() * 250)}`;
    if (!routes.includes(`${prefix}.`)) return `${prefix}.0/24`;
  }
  throw new Error(`no free 10.${second}.X.0/24 subnet`);
}
