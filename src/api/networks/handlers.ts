import type { FastifyReply } from 'fastify';
import { InvalidParameterError } from '../../errors';
import { parseGoBool } from '../../engine/filter-args';
import type { ConnectEndpointConfig, CreateNetworkOptions } from '../../engine/networks/types';
import { filtersValue, stringValue } from '../form';
import { apiVersionOf, jsonBody, sendJson, type ApiRequest } from '../route';
import { versionAtLeast } from '../version';
import { shapeNetwork } from '../version-shapes';
import type { NetworkBackend } from './backend';

type Req = ApiRequest<'id'>;

type FieldType = 'string' | 'boolean' | 'object' | 'stringMap';

const GO_TYPE: Record<FieldType, string> = { string: 'string', boolean: 'bool', object: 'struct', stringMap: 'map[string]string' };

const jsonTypeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Go's decoding error for a field of the wrong JSON type, as httputils.ReadJSON reports it. */
function wrongType(struct: string, field: string, value: unknown, goType: string): InvalidParameterError {
  return new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${jsonTypeOf(value)} into Go struct field ${struct}.${field} of type ${goType}`);
}

/** The request body as an object; an empty body means nothing is set, as in dockerd. */
async function objectBody(request: ApiRequest, goType: string): Promise<Record<string, unknown>> {
  const body = await jsonBody(request);
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${jsonTypeOf(body)} into Go value of type ${goType}`);
  }
  return body as Record<string, unknown>;
}

/** Checks the JSON types of the named fields; null counts as absent (Go's zero value). */
function checkFields(obj: Record<string, unknown>, struct: string, fields: Record<string, FieldType>): void {
  for (const [field, type] of Object.entries(fields)) {
    const v = obj[field];
    if (v === undefined || v === null) continue;
    const isObject = typeof v === 'object' && !Array.isArray(v);
    if (type === 'object' || type === 'stringMap' ? !isObject : typeof v !== type) throw wrongType(struct, field, v, GO_TYPE[type]);
    if (type === 'stringMap') {
      for (const s of Object.values(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw wrongType(struct, field, s, 'string');
      }
    }
  }
}

/** POST /networks/create body → the engine's create options (types checked, values not). */
function createOptions(body: Record<string, unknown>, apiVersion: string): CreateNetworkOptions {
  checkFields(body, 'CreateRequest', {
    Name: 'string', Driver: 'string', Scope: 'string', Internal: 'boolean', Attachable: 'boolean', Ingress: 'boolean',
    ConfigOnly: 'boolean', EnableIPv4: 'boolean', EnableIPv6: 'boolean', CheckDuplicate: 'boolean',
    Options: 'stringMap', Labels: 'stringMap', IPAM: 'object', ConfigFrom: 'object',
  });
  const ipam = body.IPAM as Record<string, unknown> | null | undefined;
  if (ipam) {
    checkFields(ipam, 'IPAM', { Driver: 'string', Options: 'stringMap' });
    if (ipam.Config !== undefined && ipam.Config !== null) {
      if (!Array.isArray(ipam.Config)) throw wrongType('IPAM', 'Config', ipam.Config, '[]network.IPAMConfig');
      for (const entry of ipam.Config) {
        if (entry === null) continue;
        if (typeof entry !== 'object' || Array.isArray(entry)) throw wrongType('IPAM', 'Config', entry, 'network.IPAMConfig');
        checkFields(entry as Record<string, unknown>, 'IPAMConfig', { Subnet: 'string', IPRange: 'string', Gateway: 'string', AuxiliaryAddresses: 'stringMap' });
      }
    }
  }
  const opts = { ...body } as CreateNetworkOptions;
  // A null entry decodes to an empty one in Go.
  if (opts.IPAM?.Config) opts.IPAM = { ...opts.IPAM, Config: opts.IPAM.Config.map((c) => c ?? {}) };
  // EnableIPv4 arrived in API 1.48; older clients' value is ignored (network_routes.go).
  if (!versionAtLeast(apiVersion, '1.48')) delete opts.EnableIPv4;
  return opts;
}

export function networkHandlers(backend: NetworkBackend) {
  return {
    async getNetworksList(request: ApiRequest, reply: FastifyReply) {
      const v = apiVersionOf(request);
      const list = await backend.list(filtersValue(request.query), { withContainers: !versionAtLeast(v, '1.28') });
      return sendJson(reply, 200, list.map((n) => shapeNetwork(n, v)));
    },

    async getNetworksByName(request: Req, reply: FastifyReply) {
      const verboseText = stringValue(request.query, 'verbose');
      let verbose = false;
      if (verboseText) {
        const v = parseGoBool(verboseText);
        if (v === undefined) {
          throw new InvalidParameterError(`invalid value for verbose: ${verboseText}: strconv.ParseBool: parsing ${JSON.stringify(verboseText)}: invalid syntax`);
        }
        verbose = v;
      }
      const scope = stringValue(request.query, 'scope') || undefined;
      return sendJson(reply, 200, shapeNetwork(await backend.inspect(request.params.id, { verbose, scope }), apiVersionOf(request)));
    },

    async postNetworksCreate(request: ApiRequest, reply: FastifyReply) {
      const body = await objectBody(request, 'network.CreateRequest');
      return sendJson(reply, 201, await backend.create(createOptions(body, apiVersionOf(request))));
    },

    async deleteNetworks(request: Req, reply: FastifyReply) {
      await backend.remove(request.params.id);
      return reply.code(204).send();
    },

    async postNetworksPrune(request: ApiRequest, reply: FastifyReply) {
      return sendJson(reply, 200, await backend.prune(filtersValue(request.query)));
    },

    async postNetworksConnect(request: Req, reply: FastifyReply) {
      const body = await objectBody(request, 'network.ConnectRequest');
      checkFields(body, 'ConnectRequest', { Container: 'string', EndpointConfig: 'object' });
      const endpointConfig = (body.EndpointConfig ?? undefined) as ConnectEndpointConfig | undefined;
      await backend.connect(request.params.id, (body.Container as string | undefined) ?? '', endpointConfig);
      return reply.code(200).send();
    },

    async postNetworksDisconnect(request: Req, reply: FastifyReply) {
      const body = await objectBody(request, 'network.DisconnectRequest');
      checkFields(body, 'DisconnectRequest', { Container: 'string', Force: 'boolean' });
      await backend.disconnect(request.params.id, (body.Container as string | undefined) ?? '', body.Force === true);
      return reply.code(200).send();
    },
  };
}
