import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../../engine/errors';
import { boolValue, filtersValue, type Query } from '../form';
import { apiVersionOf, jsonBody, sendJson } from '../route';
import { versionAtLeast } from '../version';
import type { VolumeBackend } from './backend';

type Req = FastifyRequest<{ Params: { name: string }; Querystring: Query }>;

export function volumeHandlers(backend: VolumeBackend) {
  return {
    async getVolumesList(request: Req, reply: FastifyReply) {
      return sendJson(reply, 200, backend.list(filtersValue(request.query)));
    },
    async postVolumesCreate(request: Req, reply: FastifyReply) {
      const body = ((await jsonBody(request)) ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('invalid JSON: volume create options must be an object');
      return sendJson(reply, 201, await backend.create(body));
    },
    async getVolumesByName(request: Req, reply: FastifyReply) {
      return sendJson(reply, 200, backend.inspect(request.params.name));
    },
    async deleteVolumes(request: Req, reply: FastifyReply) {
      await backend.remove(request.params.name, { force: boolValue(request.query, 'force') });
      return reply.code(204).send();
    },
    async postVolumesPrune(request: Req, reply: FastifyReply) {
      const filters = filtersValue(request.query);
      const { all: allFilter, ...rest } = filters;
      // Since API 1.42 prune removes only anonymous volumes unless `all=true` is asked for.
      const all = !versionAtLeast(apiVersionOf(request), '1.42') || (allFilter ?? []).some((v) => v === 'true' || v === '1');
      return sendJson(reply, 200, await backend.prune(rest, all));
    },
  };
}
