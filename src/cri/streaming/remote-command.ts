/**
 * Exec and Attach over an upgraded SPDY session, as kubelet's streaming server serves them
 * (the `channel.k8s.io` protocols, versions 1 to 4): the client opens an error stream and one
 * stream per standard stream it asked for (stderr never with a TTY), plus a resize stream with a
 * TTY from v3 on; once all are there the command runs; its end is reported on the error stream
 * (v4: a JSON metav1.Status carrying the exit code; before v4: a failure's text only) and every
 * stream is closed.
 */
import type { Readable, Writable } from 'node:stream';
import { EventEmitter } from 'node:events';
import type { SpdySession, SpdyStream } from './spdy-session';
import { TerminalSizeDecoder, type TerminalSize } from './terminal-size';

export const REMOTE_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export type RemoteCommandProtocol = (typeof REMOTE_COMMAND_PROTOCOLS)[number];

/** How long the client has to open its streams (kubelet's DefaultStreamCreationTimeout). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** What an exec or attach gets: the client's streams, terminal sizes, and its going away. */
export interface RemoteCommandIo {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  /** Emits 'resize' with a TerminalSize for every size the client sends. */
  resizes: EventEmitter;
  /** The first size, or undefined when none came within `ms`. */
  firstSize(ms: number): Promise<TerminalSize | undefined>;
  /** Called once if the client goes away before the command ended. */
  onClientGone(cb: () => void): void;
}

/** How the command ended: an exit code, or an error that kept it from running. */
export type RemoteCommandOutcome = { exitCode: number; command?: string[] } | { error: Error };

export type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** Serves one exec or attach: waits for the streams, runs `run`, reports, closes the session. */
export async function serveRemoteCommand(session: SpdySession, protocol: RemoteCommandProtocol, opts: RemoteCommandOptions, run: (io: RemoteCommandIo) => Promise<RemoteCommandOutcome>): Promise<void> {
  const resizing = opts.tty && (protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io');
  const expected = 1 + Number(opts.stdin) + Number(opts.stdout) + Number(opts.stderr) + Number(resizing);
  const streams = await waitForStreams(session, expected);
  if (!streams) {
    await session.close();
    return;
  }
  const io = remoteIo(session, streams, opts);
  let outcome: RemoteCommandOutcome;
  try {
    outcome = await run(io);
  } catch (err) {
    outcome = { error: err instanceof Error ? err : new Error(String(err)) };
  }
  const report = statusReport(protocol, outcome);
  const error = streams.get('error');
  if (error && report) error.write(report);
  // FIN on every stream (the client reads stdout/stderr to EOF, then the error stream), then GOAWAY.
  await Promise.all([...streams.values()].map(endStream));
  await session.close();
}

/** The streams by type once `expected` of them are open; undefined on timeout or a closed session. */
function waitForStreams(session: SpdySession, expected: number): Promise<Map<StreamType, SpdyStream> | undefined> {
  return new Promise((resolve) => {
    const streams = new Map<StreamType, SpdyStream>();
    let count = 0;
    const done = (result: Map<StreamType, SpdyStream> | undefined) => {
      clearTimeout(timer);
      session.off('stream', onStream);
      session.off('close', onClose);
      resolve(result);
    };
    const onStream = (stream: SpdyStream) => {
      const type = stream.header('streamtype');
      if (type === 'error' || type === 'stdin' || type === 'stdout' || type === 'stderr' || type === 'resize') streams.set(type, stream);
      // kubelet counts every stream it replied to, known type or not.
      if (++count === expected) done(streams);
    };
    const onClose = () => done(undefined);
    const timer = setTimeout(() => done(undefined), STREAM_CREATION_TIMEOUT_MS);
    session.on('stream', onStream);
    session.on('close', onClose);
  });
}

function remoteIo(session: SpdySession, streams: Map<StreamType, SpdyStream>, opts: RemoteCommandOptions): RemoteCommandIo {
  const resizes = new EventEmitter();
  let lastSize: TerminalSize | undefined;
  const resize = streams.get('resize');
  if (resize) {
    const decoder = new TerminalSizeDecoder();
    resize.on('data', (chunk: Buffer) => {
      for (const size of decoder.push(chunk)) {
        lastSize = size;
        resizes.emit('resize', size);
      }
    });
  }
  return {
    stdin: opts.stdin ? streams.get('stdin') : undefined,
    stdout: opts.stdout ? streams.get('stdout') : undefined,
    stderr: opts.stderr && !opts.tty ? streams.get('stderr') : undefined,
    tty: opts.tty,
    resizes,
    firstSize: (ms) =>
      lastSize || !resize
        ? Promise.resolve(lastSize)
        : new Promise((resolve) => {
            const timer = setTimeout(() => {
              resizes.off('resize', onSize);
              resolve(undefined);
            }, ms);
            const onSize = (size: TerminalSize) => {
              clearTimeout(timer);
              resolve(size);
            };
            resizes.once('resize', onSize);
          }),
    onClientGone: (cb) => {
      if (session.isClosed) cb();
      else session.once('close', cb);
    },
  };
}

/** What the error stream carries for an outcome in a protocol version; undefined: nothing. */
export function statusReport(protocol: RemoteCommandProtocol, outcome: RemoteCommandOutcome): string | undefined {
  const status = outcomeStatus(outcome);
  if (protocol === 'v4.channel.k8s.io') return JSON.stringify(status);
  // Before v4 only a failure is written, as its message.
  return status.status === 'Success' ? undefined : status.message;
}

interface MetaStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

/** The metav1.Status kubelet's ServeExec writes (field order as Go marshals it). */
function outcomeStatus(outcome: RemoteCommandOutcome): MetaStatus {
  if ('error' in outcome) {
    const message = `error executing command in container: ${outcome.error.message}`;
    return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
  }
  if (outcome.exitCode === 0) return { metadata: {}, status: 'Success' };
  const cmd = outcome.command ? `error executing command [${outcome.command.join(' ')}], exit code ${outcome.exitCode}` : `exit code ${outcome.exitCode}`;
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: ${cmd}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
  };
}

function endStream(stream: SpdyStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) return resolve();
    stream.end(() => resolve());
    stream.once('close', () => resolve());
  });
}
