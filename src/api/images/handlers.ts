import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { InvalidParameterError, NotFoundError } from '../../errors';
import { boolValue, filtersValue, stringsValue, stringValue } from '../form';
import { apiVersionOf, clientGone, sendJson, sendJsonLines, type ApiRequest } from '../route';
import { shapeImageInspect, shapeImageSummary } from '../version-shapes';
import { progressStream } from '../wire/progress-stream';
import { registryAuth } from '../registry-auth';
import type { ImageBackend } from './backend';

type Req = ApiRequest<'*'>;

/** Image names contain slashes, so `/images/<name>/<action>` is split by hand (dockerd: `{name:.*}`). */
function nameAndAction(path: string, actions: string[]): { name: string; action: string } {
  for (const action of actions) {
    if (path.endsWith(`/${action}`)) return { name: path.slice(0, -action.length - 1), action };
  }
  return { name: path, action: '' };
}

/** A tar the engine produces; a client that goes away stops it. */
function sendTarStream(reply: FastifyReply, stream: Readable): FastifyReply {
  reply.raw.on('close', () => stream.destroy());
  return reply.code(200).header('Content-Type', 'application/x-tar').send(stream);
}

export function imageHandlers(backend: ImageBackend) {
  /** POST /images/create?fromImage=…&tag=…: progress lines as the pull goes; a late error as errorDetail. */
  async function pull(request: ApiRequest, reply: FastifyReply) {
    const q = request.query;
    const image = stringValue(q, 'fromImage') ?? '';
    const tag = stringValue(q, 'tag') ?? '';
    const ref = tag === '' ? image : tag.includes(':') ? `${image}@${tag}` : `${image}:${tag}`;
    const signal = clientGone(reply);
    return progressStream(reply, (write) => backend.pull(ref, { platform: stringValue(q, 'platform') || undefined, creds: registryAuth(request), progress: write, signal }));
  }

  /** POST /images/{name}/push?tag=…: progress lines, the aux digest, a late error as errorDetail. */
  async function push(request: ApiRequest, reply: FastifyReply, name: string) {
    const signal = clientGone(reply);
    return progressStream(reply, (write) => backend.push(name, stringValue(request.query, 'tag') || undefined, { creds: registryAuth(request), progress: write, signal }));
  }

  return {
    async getImagesJSON(request: ApiRequest, reply: FastifyReply) {
      const v = apiVersionOf(request);
      const list = await backend.list(filtersValue(request.query), boolValue(request.query, 'all'));
      return sendJson(reply, 200, list.map((i) => shapeImageSummary(i, v)));
    },

    async postImagesPrune(request: ApiRequest, reply: FastifyReply) {
      return sendJson(reply, 200, await backend.prune(filtersValue(request.query)));
    },

    /** GET /images/{name}/json, /images/{name}/history, /images/{name}/get */
    async getImagesByName(request: Req, reply: FastifyReply) {
      const { name, action } = nameAndAction(request.params['*'], ['json', 'history', 'get']);
      if (!action || !name) throw new NotFoundError('page not found');
      if (action === 'get') return sendTarStream(reply, await backend.save([name]));
      if (action === 'history') return sendJson(reply, 200, await backend.history(name));
      return sendJson(reply, 200, shapeImageInspect(await backend.inspect(name), apiVersionOf(request)));
    },

    /** GET /images/get?names=a&names=b */
    async getImagesGet(request: ApiRequest, reply: FastifyReply) {
      return sendTarStream(reply, await backend.save(stringsValue(request.query, 'names')));
    },

    /** POST /images/create: `fromSrc=-` imports the body, `fromSrc=<URL>` what the URL serves (docker import); otherwise a pull. */
    async postImagesCreate(request: ApiRequest, reply: FastifyReply) {
      const q = request.query;
      const fromSrc = stringValue(q, 'fromSrc');
      if (!fromSrc) return pull(request, reply);
      const opts = {
        repo: stringValue(q, 'repo') || undefined,
        tag: stringValue(q, 'tag') || undefined,
        message: stringValue(q, 'message') || undefined,
        changes: stringsValue(q, 'changes'),
      };
      let id: string;
      if (fromSrc === '-') {
        const body = request.body;
        id = await backend.importImage(body && typeof (body as Readable).pipe === 'function' ? (body as Readable) : Readable.from(Buffer.alloc(0)), opts);
      } else {
        id = await backend.importUrl(fromSrc, opts);
      }
      return sendJsonLines(reply, `${JSON.stringify({ status: id })}\n`);
    },

    /** POST /images/{name}/tag, POST /images/{name}/push */
    async postImagesTag(request: Req, reply: FastifyReply) {
      const { name, action } = nameAndAction(request.params['*'], ['tag', 'push']);
      if (!action || !name) throw new NotFoundError('page not found');
      if (action === 'push') return push(request, reply, name);
      const repo = stringValue(request.query, 'repo');
      if (!repo) throw new InvalidParameterError('repository name must have at least one component');
      await backend.tag(name, repo, stringValue(request.query, 'tag') || undefined);
      return reply.code(201).send();
    },

    async deleteImages(request: Req, reply: FastifyReply) {
      const q = request.query;
      const result = await backend.remove(request.params['*'], { force: boolValue(q, 'force'), noprune: boolValue(q, 'noprune') });
      return sendJson(reply, 200, result);
    },

    async postImagesLoad(request: ApiRequest, reply: FastifyReply) {
      const body = request.body;
      const input = body && typeof (body as Readable).pipe === 'function' ? (body as Readable) : Readable.from(Buffer.alloc(0));
      const signal = clientGone(reply);
      // dockerd answers 200 and puts a failure (a corrupt or foreign archive) in the stream.
      return progressStream(
        reply,
        async (write) => {
          for (const line of await backend.load(input, { signal })) write({ stream: `${line}\n` });
        },
        { errorsInBand: true },
      );
    },
  };
}
