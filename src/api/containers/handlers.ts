import type { FastifyReply } from 'fastify';
import { InvalidParameterError } from '../../errors';
import type { AttachStreams, ContainerConfig, HostConfig, WaitCondition } from '../../engine/containers/types';
import { boolValue, filtersValue, intValue, stringsValue, stringValue, timestampValue, uint32Value, type Query } from '../form';
import { apiVersionOf, beginStream, type ApiRequest, jsonBody, jsonBuffer, sendJson, sendJsonBuffer, type HijackRequest, type WsSocket } from '../route';
import { sameMoment } from '../same-moment';
import { versionAtLeast } from '../version';
import { shapeContainerInspect, shapeContainerSummary } from '../version-shapes';
import { hijackedStreams, type HijackedConnection } from '../wire/hijack';
import { encodeLogBatch } from '../wire/log-stream';
import { MEDIA_MULTIPLEXED, MEDIA_RAW } from '../wire/stdcopy';
import { PATH_STAT_HEADER, encodePathStat } from '../wire/path-stat';
import { PassThrough, Readable } from 'node:stream';
import type { ContainerBackend } from './backend';

type Req = ApiRequest<'id'>;

const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed'];

/** Before API 1.44 a container is created on one network at most (dockerd's message and status). */
function checkEndpointCount(networkingConfig: unknown, version: string): void {
  if (versionAtLeast(version, '1.44')) return;
  const endpoints = Object.keys((networkingConfig as { EndpointsConfig?: Record<string, unknown> } | null)?.EndpointsConfig ?? {});
  if (endpoints.length > 1) throw new InvalidParameterError(`Container cannot be created with multiple network endpoints: ${endpoints.join(', ')}`);
}

/** Sends an engine-produced tar; a client that goes away stops the producer. */
function sendTar(reply: FastifyReply, stream: Readable): FastifyReply {
  reply.raw.on('close', () => stream.destroy());
  return reply.code(200).header('Content-Type', 'application/x-tar').send(stream);
}

function stopOptions(q: Query) {
  return { timeout: intValue(q, 't', 'timeout'), signal: stringValue(q, 'signal') };
}

export function containerHandlers(backend: ContainerBackend) {
  return {
    async getContainersJSON(request: ApiRequest, reply: FastifyReply) {
      const q = request.query;
      const limit = intValue(q, 'limit');
      const v = apiVersionOf(request);
      const body = await sameMoment(`${v} ${request.url}`, async () => {
        const list = await backend.list({ all: boolValue(q, 'all'), limit: limit === -1 ? undefined : limit, size: boolValue(q, 'size'), filters: filtersValue(q) });
        return jsonBuffer(list.map((c) => shapeContainerSummary(c, v)));
      });
      return sendJsonBuffer(reply, 200, body);
    },

    async postContainersCreate(request: ApiRequest, reply: FastifyReply) {
      const body = (await jsonBody(request)) as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('config cannot be empty in order to create a container');
      const { HostConfig, NetworkingConfig, ...config } = body;
      checkEndpointCount(NetworkingConfig, apiVersionOf(request));
      const result = await backend.create({
        name: stringValue(request.query, 'name') || undefined,
        config,
        hostConfig: (HostConfig ?? undefined) as Record<string, unknown> | undefined,
        networkingConfig: NetworkingConfig,
      });
      return sendJson(reply, 201, result);
    },

    async getContainersByName(request: Req, reply: FastifyReply) {
      return sendJson(reply, 200, shapeContainerInspect(await backend.inspect(request.params.id, { size: boolValue(request.query, 'size') }), apiVersionOf(request)));
    },

    async postContainersStart(request: Req, reply: FastifyReply) {
      await backend.start(request.params.id);
      return reply.code(204).send();
    },

    async postContainersStop(request: Req, reply: FastifyReply) {
      await backend.stop(request.params.id, stopOptions(request.query));
      return reply.code(204).send();
    },

    async postContainersRestart(request: Req, reply: FastifyReply) {
      await backend.restart(request.params.id, stopOptions(request.query));
      return reply.code(204).send();
    },

    async postContainersKill(request: Req, reply: FastifyReply) {
      await backend.kill(request.params.id, stringValue(request.query, 'signal') || undefined);
      return reply.code(204).send();
    },

    async postContainersWait(request: Req, reply: FastifyReply) {
      const condition = (stringValue(request.query, 'condition') || 'not-running') as WaitCondition;
      if (!WAIT_CONDITIONS.includes(condition)) throw new InvalidParameterError(`invalid condition: "${condition}"`);
      backend.get(request.params.id);
      const abort = new AbortController();
      reply.raw.on('close', () => abort.abort());
      const result = backend.wait(request.params.id, condition, abort.signal);
      // The CLI waits for these headers before it starts the container.
      beginStream(reply, 'application/json');
      try {
        reply.raw.end(JSON.stringify(await result) + '\n');
      } catch (err) {
        reply.raw.end(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }) + '\n');
      }
    },

    async deleteContainers(request: ApiRequest<'*'>, reply: FastifyReply) {
      const q = request.query;
      // A wildcard route: `?link=1` names a link as `<parent>/<alias>`.
      const ref = request.params['*'];
      await backend.remove(ref, { force: boolValue(q, 'force'), removeVolumes: boolValue(q, 'v'), link: boolValue(q, 'link') });
      return reply.code(204).send();
    },

    async postContainersRename(request: Req, reply: FastifyReply) {
      await backend.rename(request.params.id, stringValue(request.query, 'name') ?? '');
      return reply.code(204).send();
    },

    async postContainersResize(request: Req, reply: FastifyReply) {
      const h = uint32Value(request.query, 'h', 'resize height');
      const w = uint32Value(request.query, 'w', 'resize width');
      await backend.resize(request.params.id, h, w);
      return reply.code(200).send();
    },

    async headContainersArchive(request: Req, reply: FastifyReply) {
      const stat = await backend.statPath(request.params.id, stringValue(request.query, 'path') ?? '');
      return reply.code(200).header(PATH_STAT_HEADER, encodePathStat(stat)).send();
    },

    async getContainersArchive(request: Req, reply: FastifyReply) {
      const { stat, stream } = await backend.getArchive(request.params.id, stringValue(request.query, 'path') ?? '');
      reply.header(PATH_STAT_HEADER, encodePathStat(stat));
      return sendTar(reply, stream);
    },

    async putContainersArchive(request: Req, reply: FastifyReply) {
      const q = request.query;
      const body = request.body instanceof Readable ? request.body : Readable.from([]);
      await backend.putArchive(request.params.id, body, {
        path: stringValue(q, 'path') ?? '',
        noOverwriteDirNonDir: boolValue(q, 'noOverwriteDirNonDir'),
        copyUIDGID: boolValue(q, 'copyUIDGID'),
      });
      return reply.code(200).send();
    },

    async getContainersExport(request: Req, reply: FastifyReply) {
      return sendTar(reply, await backend.export(request.params.id));
    },

    async getContainersChanges(request: Req, reply: FastifyReply) {
      return sendJson(reply, 200, await backend.changes(request.params.id));
    },

    async getContainersStats(request: Req, reply: FastifyReply) {
      const q = request.query;
      const stream = boolValue(q, 'stream', true);
      const abort = new AbortController();
      const samples = backend.stats(request.params.id, { stream, oneShot: boolValue(q, 'one-shot'), signal: abort.signal });
      if (!stream) {
        for await (const s of samples) return sendJson(reply, 200, s);
        return sendJson(reply, 200, {});
      }
      reply.raw.on('close', () => abort.abort());
      const first = await samples.next(); // a 404 is still an HTTP error
      beginStream(reply, 'application/json');
      try {
        if (!first.done) reply.raw.write(`${JSON.stringify(first.value)}\n`);
        for await (const s of samples) reply.raw.write(`${JSON.stringify(s)}\n`);
      } finally {
        reply.raw.end();
      }
    },

    async postContainersUpdate(request: Req, reply: FastifyReply) {
      const body = await jsonBody(request);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidParameterError('invalid JSON: update config must be an object');
      const warnings = await backend.update(request.params.id, body as HostConfig);
      return sendJson(reply, 200, { Warnings: warnings });
    },

    async getContainersTop(request: Req, reply: FastifyReply) {
      return sendJson(reply, 200, await backend.top(request.params.id, stringValue(request.query, 'ps_args')));
    },

    async postContainersPrune(request: ApiRequest, reply: FastifyReply) {
      return sendJson(reply, 200, await backend.prune(filtersValue(request.query)));
    },

    async postContainersPause(request: Req, reply: FastifyReply) {
      await backend.pause(request.params.id);
      return reply.code(204).send();
    },

    async postContainersUnpause(request: Req, reply: FastifyReply) {
      await backend.unpause(request.params.id);
      return reply.code(204).send();
    },

    async postCommit(request: ApiRequest, reply: FastifyReply) {
      const q = request.query;
      const config = await jsonBody(request);
      if (config !== undefined && (typeof config !== 'object' || Array.isArray(config))) throw new InvalidParameterError('invalid JSON: commit config must be an object');
      const id = await backend.commit(stringValue(q, 'container') ?? '', {
        repo: stringValue(q, 'repo') || undefined,
        tag: stringValue(q, 'tag') || undefined,
        author: stringValue(q, 'author') || undefined,
        comment: stringValue(q, 'comment') || undefined,
        config: (config ?? undefined) as ContainerConfig | undefined,
        changes: stringsValue(q, 'changes'),
        pause: boolValue(q, 'pause', true),
      });
      return sendJson(reply, 201, { Id: id });
    },

    async getContainersLogs(request: Req, reply: FastifyReply) {
      const q = request.query;
      const tailRaw = stringValue(q, 'tail');
      const tail = tailRaw === undefined || tailRaw === '' || tailRaw === 'all' ? undefined : Number(tailRaw);
      const abort = new AbortController();
      const timestamps = boolValue(q, 'timestamps');
      const { tty, batches, details } = backend.logs(request.params.id, {
        stdout: boolValue(q, 'stdout'),
        stderr: boolValue(q, 'stderr'),
        follow: boolValue(q, 'follow'),
        timestamps,
        since: timestampValue(q, 'since'),
        until: timestampValue(q, 'until'),
        tail: tail !== undefined && Number.isInteger(tail) && tail >= 0 ? tail : undefined,
        signal: abort.signal,
      });
      const multiplexed = !tty && versionAtLeast(apiVersionOf(request), '1.42');
      reply.raw.on('close', () => abort.abort());
      beginStream(reply, multiplexed ? MEDIA_MULTIPLEXED : MEDIA_RAW);
      try {
        const encoding = { tty, timestamps, details: boolValue(q, 'details') ? details : undefined };
        for await (const batch of batches) {
          if (!reply.raw.write(encodeLogBatch(batch, encoding))) await new Promise((res) => reply.raw.once('drain', res));
        }
      } finally {
        reply.raw.end();
      }
    },
  };
}

/** The attach query parameters (both attach endpoints). */
function attachQuery(q: Query) {
  return {
    stdin: boolValue(q, 'stdin'),
    stdout: boolValue(q, 'stdout'),
    stderr: boolValue(q, 'stderr'),
    stream: boolValue(q, 'stream'),
    logs: boolValue(q, 'logs'),
    detachKeys: stringValue(q, 'detachKeys') || undefined,
  };
}

/**
 * GET /containers/{id}/attach/ws: the same attach over a websocket. Output goes out raw (no
 * stdcopy frames), in binary messages from API 1.28 (text before, as dockerd); messages in are
 * stdin. Before 1.42 dockerd ignores stdin/stdout/stderr here and attaches all three.
 */
export function attachWsHandler(backend: ContainerBackend) {
  return async function getContainersAttachWs(socket: WsSocket, req: HijackRequest): Promise<void> {
    const binary = versionAtLeast(req.apiVersion, '1.28');
    const query = attachQuery(req.query);
    if (!versionAtLeast(req.apiVersion, '1.42')) Object.assign(query, { stdin: true, stdout: true, stderr: true });
    const stdin = new PassThrough();
    socket.on('message', (data) => stdin.write(data));
    socket.on('close', () => stdin.end());
    await backend.attach(req.params.id, {
      ...query,
      getStreams: (): AttachStreams => ({
        stdin,
        write: (_stream, data) => socket.send(data, { binary }),
        end: () => socket.close(1000),
        onClose: (cb) => socket.on('close', cb),
      }),
    });
  };
}

/** Attach: the engine validates, then calls getStreams and the connection is hijacked. */
export function attachHandler(backend: ContainerBackend) {
  return async function postContainersAttach(req: HijackRequest, conn: HijackedConnection): Promise<void> {
    await backend.attach(req.params.id, { ...attachQuery(req.query), getStreams: (tty) => hijackedStreams(conn, tty) });
  };
}
