/** The comparison tables the benchmarks print. */
import type { BenchDaemon } from './daemons';
import { ms, ratio, summarize } from './stats';

/**
 * One line per daemon (median, p90, min, max in ms, plus `about`), then the berth/dockerd ratios
 * of the medians and p90s when both daemons were measured.
 */
export function printComparison(title: string, daemons: BenchDaemon[], samples: Map<string, number[]>, about: Map<string, string>): void {
  const rows = daemons.map((d) => ({ name: d.name, s: summarize(samples.get(d.name) ?? []) }));
  console.log(`\n${title}`);
  console.log(`${'daemon'.padEnd(8)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(10)} ${'min ms'.padStart(10)} ${'max ms'.padStart(10)}  version`);
  for (const { name, s } of rows) {
    console.log(`${name.padEnd(8)} ${ms(s.median).padStart(10)} ${ms(s.p90).padStart(10)} ${ms(s.min).padStart(10)} ${ms(s.max).padStart(10)}  ${about.get(name) ?? ''}`);
  }
  const berth = rows.find((r) => r.name === 'berth')?.s;
  const docker = rows.find((r) => r.name === 'dockerd')?.s;
  if (berth && docker) {
    console.log(`ratio berth/dockerd: median ${ratio(berth.median, docker.median)}, p90 ${ratio(berth.p90, docker.p90)} (below 1: Berth is faster)`);
  }
}

/** A row of a figures table: one figure per daemon, and which way is better. */
export interface FigureRow {
  /** What was measured, with its unit (`docker ps, 100 running (ms)`). */
  metric: string;
  /** By daemon name; a daemon not measured has no entry. */
  values: Map<string, number>;
  better: 'lower' | 'higher';
}

const figure = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v < 100 ? v.toFixed(1) : Math.round(v).toString());

/**
 * metric | one column per daemon | berth/dockerd (when both were measured) | better when: a
 * ratio below 1 on a `lower` row, or above 1 on a `higher` row, means Berth does better.
 */
export function printFigures(daemons: BenchDaemon[], rows: FigureRow[]): void {
  const both = daemons.some((d) => d.name === 'berth') && daemons.some((d) => d.name === 'dockerd');
  const width = Math.max(6, ...rows.map((r) => r.metric.length));
  const header = ['metric'.padEnd(width), ...daemons.map((d) => d.name.padStart(10)), ...(both ? ['berth/dockerd'.padStart(14)] : []), '  better when'];
  console.log(`\n${header.join(' ')}`);
  for (const r of rows) {
    const cells = [r.metric.padEnd(width), ...daemons.map((d) => figure(r.values.get(d.name)).padStart(10))];
    if (both) cells.push(ratio(r.values.get('berth') ?? NaN, r.values.get('dockerd') ?? NaN).padStart(14));
    cells.push(`  ${r.better}`);
    console.log(cells.join(' '));
  }
  if (both) console.log('(berth/dockerd below 1 on a "lower" row, or above 1 on a "higher" row: Berth does better; dockerd\'s memory includes its containerd)');
}
