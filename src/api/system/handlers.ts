import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendJson } from '../route';
import { MAX_API_VERSION, MIN_API_VERSION } from '../version';
import type { SystemBackend } from './backend';

export function systemHandlers(backend: SystemBackend) {
  const pingHeaders = (reply: FastifyReply) =>
    reply.headers({
      'Builder-Version': '1',
      Swarm: 'inactive',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
    });
  return {
    async getPing(_request: FastifyRequest, reply: FastifyReply) {
      return pingHeaders(reply).code(200).type('text/plain; charset=utf-8').send('OK');
    },
    async headPing(_request: FastifyRequest, reply: FastifyReply) {
      return pingHeaders(reply).code(200).type('text/plain; charset=utf-8').header('Content-Length', '0').send();
    },
    async getVersion(_request: FastifyRequest, reply: FastifyReply) {
      return sendJson(reply, 200, backend.version(MAX_API_VERSION, MIN_API_VERSION));
    },
    async getInfo(_request: FastifyRequest, reply: FastifyReply) {
      return sendJson(reply, 200, await backend.info());
    },
  };
}
