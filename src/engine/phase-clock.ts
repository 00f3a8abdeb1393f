/** Milliseconds per named phase of one operation, for the debug log (where a start's time goes). */
export class PhaseClock {
  private last = performance.now();
  private readonly phases: Record<string, number> = {};

  /** Ends the phase named `name` (the time since the previous mark, or since the clock began). */
  mark(name: string): void {
    const now = performance.now();
    this.phases[name] = Math.round((now - this.last) * 10) / 10;
    this.last = now;
  }

  done(): Record<string, number> {
    return this.phases;
  }
}
