import type { FastifyReply } from 'fastify';
import { beginStream } from '../route';

/**
 * A JSON-message stream (pull, push, build): headers go out with the first message, so an error
 * before it (bad reference, unreachable registry, unknown manifest, bad Dockerfile) is an
 * ordinary HTTP error, as with dockerd; a later one becomes the `errorDetail` line the CLI fails
 * on (with the exit code of a failed RUN as its `code`).
 */
export async function progressStream(
  reply: FastifyReply,
  run: (write: (obj: object) => void) => Promise<unknown>,
  opts: {
    /** Errors before the first message go in the stream too (dockerd's load answers every failure so). */
    errorsInBand?: boolean;
  } = {},
): Promise<FastifyReply> {
  let started = false;
  const write = (obj: object) => {
    if (!started) {
      beginStream(reply, 'application/json');
      started = true;
    }
    reply.raw.write(`${JSON.stringify(obj)}\n`);
  };
  try {
    await run(write);
  } catch (err) {
    if (!started && !opts.errorsInBand) throw err;
    const message = (err as Error).message;
    const exitCode = (err as { exitCode?: unknown }).exitCode;
    write({ errorDetail: { ...(typeof exitCode === 'number' ? { code: exitCode } : {}), message }, error: message });
  }
  if (!started) beginStream(reply, 'application/json'); // an empty stream (a load that printed nothing)
  reply.raw.end();
  return reply;
}
