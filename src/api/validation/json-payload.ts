import type { Readable } from 'node:stream';
import { parseJsonBody } from './json-text';

/** Fastify's own "too large" error shape, so the error handler words it once. */
function tooLarge(): Error {
  return Object.assign(new Error('request body too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
}

/** Reads a JSON body that arrived without a JSON content type, refusing more than `limit` bytes. */
export async function readJsonPayload(payload: Readable, limit: number, declaredLength?: number): Promise<unknown> {
  // Answer at once when the declared length is over; otherwise stop collecting at the limit and
  // let the error reply go out (the server closes the connection with the unread rest).
  if (declaredLength !== undefined && declaredLength > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return parseJsonBody(Buffer.concat(chunks).toString('utf8'));
}
