import type { FastifyReply } from 'fastify';
import { InvalidParameterError } from '../../errors';
import type { CreateVolumeOptions } from '../../engine/volumes/types';
import { boolValue, filtersValue } from '../form';
import { apiVersionOf, jsonBody, sendJson, type ApiRequest } from '../route';
import { versionAtLeast } from '../version';
import type { VolumeBackend } from './backend';

type Req = ApiRequest<'name'>;

const jsonTypeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** POST /volumes/create body, JSON types checked as Go's decoder would (volume.CreateOptions). */
async function createOptions(request: ApiRequest): Promise<CreateVolumeOptions> {
  const body = await jsonBody(request);
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${jsonTypeOf(body)} into Go value of type volume.CreateOptions`);
  }
  const obj = body as Record<string, unknown>;
  const wrong = (field: string, v: unknown, goType: string) =>
    new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${jsonTypeOf(v)} into Go struct field CreateOptions.${field} of type ${goType}`);
  for (const field of ['Name', 'Driver']) {
    const v = obj[field];
    if (v !== undefined && v !== null && typeof v !== 'string') throw wrong(field, v, 'string');
  }
  for (const field of ['DriverOpts', 'Labels']) {
    const v = obj[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw wrong(field, v, 'map[string]string');
    for (const s of Object.values(v as Record<string, unknown>)) if (typeof s !== 'string') throw wrong(field, s, 'string');
  }
  return {
    Name: (obj.Name as string | null) ?? undefined,
    Driver: (obj.Driver as string | null) ?? undefined,
    DriverOpts: (obj.DriverOpts as Record<string, string> | null) ?? null,
    Labels: (obj.Labels as Record<string, string> | null) ?? null,
  };
}

export function volumeHandlers(backend: VolumeBackend) {
  return {
    async getVolumesList(request: ApiRequest, reply: FastifyReply) {
      return sendJson(reply, 200, await backend.list(filtersValue(request.query)));
    },

    async postVolumesCreate(request: ApiRequest, reply: FastifyReply) {
      return sendJson(reply, 201, await backend.create(await createOptions(request)));
    },

    async getVolumesByName(request: Req, reply: FastifyReply) {
      return sendJson(reply, 200, await backend.inspect(request.params.name));
    },

    async deleteVolumes(request: Req, reply: FastifyReply) {
      await backend.remove(request.params.name, { force: boolValue(request.query, 'force') });
      return reply.code(204).send();
    },

    async postVolumesPrune(request: ApiRequest, reply: FastifyReply) {
      const filters = filtersValue(request.query);
      // API 1.42 made prune consider anonymous volumes only; older clients get every volume.
      if (!versionAtLeast(apiVersionOf(request), '1.42')) filters.all = [...(filters.all ?? []), 'true'];
      return sendJson(reply, 200, await backend.prune(filters));
    },
  };
}
