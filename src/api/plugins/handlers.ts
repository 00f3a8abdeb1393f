import type { FastifyReply } from 'fastify';
import { InvalidParameterError, NotFoundError } from '../../errors';
import { familiarString, parseNormalizedNamed, tagNameOnly } from '../../engine/images/reference';
import { filtersValue, stringValue, type Query } from '../form';
import { jsonBody, sendJson, type ApiRequest } from '../route';
import type { PluginBackend } from './backend';

type Req = ApiRequest<'*'>;

/** Plugin names hold slashes (`vieux/sshfs:latest`), so `/plugins/<name>/<action>` is split by hand. */
function nameAndAction(path: string, actions: readonly string[]): { name: string; action: string } {
  for (const action of actions) {
    if (path.endsWith(`/${action}`) && path.length > action.length + 1) return { name: path.slice(0, -action.length - 1), action };
  }
  throw new NotFoundError('page not found');
}

/** `?remote=`: a plugin reference, checked as dockerd parses it. */
function remoteRef(q: Query) {
  const remote = stringValue(q, 'remote') ?? '';
  if (remote === '') throw new InvalidParameterError('invalid reference format');
  return parseNormalizedNamed(remote);
}

export function pluginHandlers(backend: PluginBackend) {
  return {
    async getPlugins(request: ApiRequest, reply: FastifyReply) {
      return sendJson(reply, 200, backend.list(filtersValue(request.query)));
    },

    async getPluginsPrivileges(request: ApiRequest, reply: FastifyReply) {
      remoteRef(request.query);
      return sendJson(reply, 200, backend.privileges());
    },

    async postPluginsPull(request: ApiRequest) {
      remoteRef(request.query);
      return backend.install();
    },

    async postPluginsCreate(request: ApiRequest) {
      const name = stringValue(request.query, 'name') ?? '';
      if (name === '') throw new InvalidParameterError('failed to parse reference : invalid reference format');
      parseNormalizedNamed(name);
      return backend.install();
    },

    /** GET /plugins/{name}/json */
    async getPluginsByName(request: Req) {
      return backend.get(nameAndAction(request.params['*'], ['json']).name);
    },

    /** POST /plugins/{name}/{enable,disable,push,set,upgrade} */
    async postPluginsByName(request: Req) {
      const { name, action } = nameAndAction(request.params['*'], ['enable', 'disable', 'push', 'set', 'upgrade']);
      const q = request.query;
      if (action === 'enable') {
        const timeout = stringValue(q, 'timeout') ?? '';
        if (!/^[+-]?\d+$/.test(timeout)) throw new InvalidParameterError(`strconv.Atoi: parsing "${timeout}": invalid syntax`);
      } else if (action === 'set') {
        if ((await jsonBody(request)) === undefined) throw new InvalidParameterError('got EOF while reading request body');
      } else if (action === 'upgrade') {
        remoteRef(q);
        return backend.get(familiarString(tagNameOnly(parseNormalizedNamed(name))));
      }
      return backend.get(name);
    },

    async deletePlugins(request: Req) {
      return backend.get(request.params['*']);
    },
  };
}
