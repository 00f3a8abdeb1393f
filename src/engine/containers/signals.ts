import { constants } from 'node:os';
import { InvalidParameterError } from '../../errors';

const SIGNALS = constants.signals as Record<string, number>;

/** Parses `9`, `KILL`, `SIGKILL`, `sigkill` into the canonical name (`SIGKILL`); 400 otherwise. */
export function parseSignal(value: string): string {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const num = Number(trimmed);
    const name = Object.keys(SIGNALS).find((k) => SIGNALS[k] === num);
    if (!name || num === 0) throw new InvalidParameterError(`Invalid signal: ${value}`);
    return name;
  }
  const upper = trimmed.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (!(name in SIGNALS)) throw new InvalidParameterError(`Invalid signal: ${value}`);
  return name;
}

export const signalNumber = (name: string): number => SIGNALS[name] ?? 0;
