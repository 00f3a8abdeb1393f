import type { FastifyReply } from 'fastify';
import { NotFoundError } from '../../errors';
import { registryAuth } from '../registry-auth';
import { sendJson, type ApiRequest } from '../route';
import type { DistributionBackend } from './backend';

type Req = ApiRequest<'*'>;

export function distributionHandlers(backend: DistributionBackend) {
  return {
    /** GET /distribution/{name}/json (names hold slashes, so the suffix is split by hand). */
    async getDistributionJson(request: Req, reply: FastifyReply) {
      const path = request.params['*'];
      if (!path.endsWith('/json') || path === '/json') throw new NotFoundError('page not found');
      return sendJson(reply, 200, await backend.distributionInspect(path.slice(0, -'/json'.length), { creds: registryAuth(request) }));
    },
  };
}
