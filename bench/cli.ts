/**
 * The command line every benchmark shares: `[N] [--only berth|dockerd]` (`--runs N` is the same
 * as `N`) plus its own `--<name> M` counts, and the exit code and message of its main function.
 */

export interface BenchArgs {
  runs: number;
  only?: string;
  /** Extra counts by flag name (`--http-runs 5` → counts['http-runs'] = 5). */
  counts: Record<string, number>;
}

/** Parses the arguments; `counts` gives the extra flags with their defaults. */
export function parseBenchArgs(argv: string[], usage: string, runs: number, counts: Record<string, number> = {}): BenchArgs {
  const out: BenchArgs = { runs, counts: { ...counts } };
  const count = (a: string | undefined) => {
    if (a === undefined || !/^\d+$/.test(a) || Number(a) === 0) throw new Error(`${usage} (not a run count: ${JSON.stringify(a)})`);
    return Number(a);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') out.only = argv[++i];
    else if (a === '--runs') out.runs = count(argv[++i]);
    else if (a.startsWith('--') && a.slice(2) in counts) out.counts[a.slice(2)] = count(argv[++i]);
    else if (/^\d+$/.test(a)) out.runs = count(a);
    else throw new Error(`${usage} (got ${JSON.stringify(a)})`);
  }
  return out;
}

/** Runs a benchmark's main and exits with its code, or 1 with the error's message. */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`benchmark failed: ${err.message}`);
      process.exit(1);
    },
  );
}
