/** The comparison table the benchmarks print. */
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
