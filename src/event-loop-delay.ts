/**
 * Opt-in event-loop delay figures for benchmarks: with BERTH_EVENT_LOOP_DELAY_FILE set, each
 * SIGUSR2 writes the delay since the last one (perf_hooks' histogram, in ms) to that file and
 * starts a fresh histogram. Without the variable nothing is measured and no signal is taken.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelay {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Starts watching when the variable is set; returns the function that stops it. */
export function watchEventLoopDelay(file = process.env.BERTH_EVENT_LOOP_DELAY_FILE): () => void {
  if (!file) return () => undefined;
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  const report = () => {
    const figures: EventLoopDelay = {
      samples: histogram.count,
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      mean: ms(Number.isNaN(histogram.mean) ? 0 : histogram.mean),
    };
    histogram.reset();
    // Whole or not at all: the reader polls for the file.
    writeFileSync(`${file}.tmp`, JSON.stringify(figures) + '\n');
    renameSync(`${file}.tmp`, file);
  };
  process.on('SIGUSR2', report);
  return () => {
    process.off('SIGUSR2', report);
    histogram.disable();
  };
}
