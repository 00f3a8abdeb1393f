import type { EventMessage } from '../../engine/events/event-log';

/**
 * One event as a line of the /events stream. `timeNano` goes out as an exact integer (a JSON
 * number beyond a double's precision), which JSON.stringify cannot write from a bigint.
 */
export function encodeEvent(e: EventMessage): string {
  const { timeNano, ...rest } = e;
  const json = JSON.stringify(rest);
  return `${json.slice(0, -1)},"timeNano":${timeNano.toString()}}\n`;
}
