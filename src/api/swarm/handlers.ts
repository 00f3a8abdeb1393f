import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../../errors';
import { parseGoBool } from '../../engine/filter-args';
import { boolValue, filtersValue, stringValue, type Query } from '../form';
import { jsonBody, type ApiRequest } from '../route';
import type { SwarmBackend } from './backend';

type Req = ApiRequest;

/** The JSON body these routes decode before anything else; none at all is Go's EOF. */
async function requireBody(request: FastifyRequest): Promise<unknown> {
  const body = await jsonBody(request);
  if (body === undefined) throw new InvalidParameterError('got EOF while reading request body');
  return body;
}

/** `?version=` of swarm, node and service updates (a uint64, as dockerd parses it). */
function objectVersion(q: Query, what: string): void {
  const v = stringValue(q, 'version') ?? '';
  if (!/^\d+$/.test(v)) throw new InvalidParameterError(`invalid ${what} version '${v}': strconv.ParseUint: parsing "${v}": invalid syntax`);
}

/** Secrets and configs say it shorter. */
function shortObjectVersion(q: Query, what: string): void {
  if (!/^\d+$/.test(stringValue(q, 'version') ?? '')) throw new InvalidParameterError(`invalid ${what} version`);
}

/** A boolean query parameter dockerd parses strictly (`strconv.ParseBool`). */
function strictBool(q: Query, key: string): void {
  const v = stringValue(q, key);
  if (v !== undefined && v !== '' && parseGoBool(v) === undefined) {
    throw new InvalidParameterError(`invalid value for ${key}: ${v}: strconv.ParseBool: parsing "${v}": invalid syntax`);
  }
}

/**
 * Handlers of a daemon outside any swarm: the request is read and checked as dockerd checks it
 * (filters, versions, bodies), then the engine answers that no swarm is reachable.
 */
export function swarmHandlers(backend: SwarmBackend) {
  const managerOnly = async () => backend.managerOnly();
  const list = async (request: Req) => {
    filtersValue(request.query);
    return backend.managerOnly();
  };
  const create = async (request: Req) => {
    await requireBody(request);
    return backend.managerOnly();
  };
  const update = (what: 'swarm' | 'node' | 'service') => async (request: Req) => {
    objectVersion(request.query, what);
    await requireBody(request);
    return backend.managerOnly();
  };
  const shortUpdate = (what: 'secret' | 'config') => async (request: Req) => {
    shortObjectVersion(request.query, what);
    await requireBody(request);
    return backend.managerOnly();
  };
  const logs = async (request: Req) => {
    const q = request.query;
    if (!boolValue(q, 'stdout') && !boolValue(q, 'stderr')) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    return backend.managerOnly();
  };
  return {
    getSwarm: managerOnly,
    async postSwarmInit(request: Req) {
      await requireBody(request);
      return backend.create();
    },
    async postSwarmJoin(request: Req) {
      await requireBody(request);
      return backend.create();
    },
    postSwarmLeave: async () => backend.leave(),
    postSwarmUpdate: update('swarm'),
    getSwarmUnlockkey: managerOnly,
    postSwarmUnlock: create,

    getNodes: list,
    getNodesId: managerOnly,
    deleteNodesId: managerOnly,
    postNodesIdUpdate: update('node'),

    async getServices(request: Req) {
      strictBool(request.query, 'status');
      return list(request);
    },
    async getServicesId(request: Req) {
      strictBool(request.query, 'insertDefaults');
      return backend.managerOnly();
    },
    postServicesCreate: create,
    postServicesIdUpdate: update('service'),
    deleteServicesId: managerOnly,
    getServicesIdLogs: logs,

    getTasks: list,
    getTasksId: managerOnly,
    getTasksIdLogs: logs,

    getSecrets: list,
    postSecretsCreate: create,
    getSecretsId: managerOnly,
    deleteSecretsId: managerOnly,
    postSecretsIdUpdate: shortUpdate('secret'),

    getConfigs: list,
    postConfigsCreate: create,
    getConfigsId: managerOnly,
    deleteConfigsId: managerOnly,
    postConfigsIdUpdate: shortUpdate('config'),
  } satisfies Record<string, (request: Req, reply: FastifyReply) => Promise<unknown>>;
}
