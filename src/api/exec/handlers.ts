import type { FastifyReply } from 'fastify';
import { InvalidParameterError } from '../../errors';
import type { ExecConfig } from '../../engine/containers/exec/exec-service';
import type { AttachStreams } from '../../engine/containers/types';
import { goFields, uint32Value } from '../form';
import { jsonBody, sendJson, type ApiRequest, type HijackRequest } from '../route';
import { hijackedStreams, type HijackedConnection } from '../wire/hijack';
import type { ExecBackend } from './backend';

type Req = ApiRequest<'id'>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InvalidParameterError(`invalid JSON: ${what} must be a list of strings`);
  return v as string[];
}

function consoleSize(v: unknown): [number, number] | null | undefined {
  if (v === undefined || v === null) return v as null | undefined;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 0)) throw new InvalidParameterError('invalid JSON: ConsoleSize must be [height, width]');
  return [v[0], v[1]];
}

const EXEC_FIELDS = ['AttachStdin', 'AttachStdout', 'AttachStderr', 'DetachKeys', 'Tty', 'ConsoleSize', 'Env', 'Cmd', 'Privileged', 'User', 'WorkingDir'] as const;
const START_FIELDS = ['Detach', 'Tty', 'ConsoleSize'] as const;

/** The body of POST /containers/{id}/exec, with Docker's field types checked. */
function execConfig(raw: unknown): ExecConfig {
  if (!isObject(raw)) throw new InvalidParameterError('invalid JSON: exec config must be an object');
  const body = goFields(raw, EXEC_FIELDS);
  return {
    AttachStdin: body.AttachStdin === true,
    AttachStdout: body.AttachStdout === true,
    AttachStderr: body.AttachStderr === true,
    DetachKeys: typeof body.DetachKeys === 'string' ? body.DetachKeys : undefined,
    Tty: body.Tty === true,
    ConsoleSize: consoleSize(body.ConsoleSize),
    Env: strings(body.Env, 'Env'),
    Cmd: strings(body.Cmd, 'Cmd') ?? [],
    Privileged: body.Privileged === true,
    User: typeof body.User === 'string' ? body.User : undefined,
    WorkingDir: typeof body.WorkingDir === 'string' ? body.WorkingDir : undefined,
  };
}

export function execHandlers(backend: ExecBackend) {
  return {
    async postContainerExec(request: Req, reply: FastifyReply) {
      const id = backend.create(request.params.id, execConfig(await jsonBody(request)));
      return sendJson(reply, 201, { Id: id });
    },
    async getExecJSON(request: Req, reply: FastifyReply) {
      return sendJson(reply, 200, backend.inspect(request.params.id));
    },
    async postExecResize(request: Req, reply: FastifyReply) {
      const q = request.query;
      await backend.resize(request.params.id, uint32Value(q, 'h', 'height'), uint32Value(q, 'w', 'width'));
      return reply.code(200).send();
    },
  };
}

/** POST /exec/{id}/start: detached, a plain 200; attached, the hijacked connection carries the session. */
export function execStartHandler(backend: ExecBackend) {
  return async function postExecStart(req: HijackRequest, conn: HijackedConnection): Promise<void> {
    const raw = req.body === undefined ? {} : req.body;
    if (!isObject(raw)) throw new InvalidParameterError('invalid JSON: exec start config must be an object');
    const body = goFields(raw, START_FIELDS);
    const detach = body.Detach === true;
    // dockerd frames the output by the start request's Tty, not the exec's: created with a TTY
    // and started without one, the TTY's output comes back multiplexed (all of it as stdout).
    // Started with Tty, it has a raw stdout only: a process without a TTY loses its stderr.
    const rawStream = body.Tty === true;
    const streams = (): AttachStreams => {
      const s = hijackedStreams(conn, rawStream);
      if (!rawStream) return s;
      const write: AttachStreams['write'] = (stream, data) => {
        if (stream === 1) s.write(stream, data);
      };
      return { ...s, write };
    };
    await backend.start(req.params.id, { detach, consoleSize: consoleSize(body.ConsoleSize), getStreams: detach ? undefined : streams });
    if (detach) conn.endEmpty();
  };
}
