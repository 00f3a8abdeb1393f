/**
 * PortForward over an upgraded SPDY session (`portforward.k8s.io`), as kubelet's streaming
 * server serves it: for each connection the client forwards it opens an error stream and a data
 * stream with the same `requestID` and `port` headers; once both are there the data stream is
 * joined to that port inside the pod, and a failure is written on the error stream. Both streams
 * are closed when the forward ends; the session lives until the client closes it.
 */
import type { SpdyHeaders } from './spdy-header-block';
import type { SpdySession, SpdyStream } from './spdy-session';
import { STREAM_CREATION_TIMEOUT_MS } from './remote-command';

export const PORT_FORWARD_PROTOCOLS = ['portforward.k8s.io'] as const;

/** Joins `data` to `port` in the pod; resolves when the connection is over, rejects if it failed. */
export type PortForwarder = (port: number, data: SpdyStream) => Promise<void>;

/** kubelet refuses (resets) streams without a valid port or with another stream type. */
export function acceptPortForwardStream(headers: SpdyHeaders): boolean {
  const port = headers['port']?.[0] ?? '';
  const type = headers['streamtype']?.[0];
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535 && (type === 'error' || type === 'data');
}

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

export function servePortForward(session: SpdySession, podSandboxId: string, forward: PortForwarder): void {
  const pairs = new Map<string, Pair>();
  session.on('stream', (stream) => {
    const type = stream.header('streamtype') as 'error' | 'data';
    const id = requestId(stream, type);
    let pair = pairs.get(id);
    if (!pair) {
      const created: Pair = {
        timer: setTimeout(() => {
          pairs.delete(id);
          created.error?.end(`(conn=${podSandboxId}, request=${id}) timed out waiting for streams`);
        }, STREAM_CREATION_TIMEOUT_MS),
      };
      pairs.set(id, (pair = created));
    }
    if (pair[type]) {
      pair.error?.write(`error processing stream for request ${id}: ${type} stream already assigned`);
      stream.reset();
      return;
    }
    pair[type] = stream;
    if (!pair.error || !pair.data) return;
    clearTimeout(pair.timer);
    pairs.delete(id);
    void run(pair.error, pair.data);
  });
  session.on('close', () => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    pairs.clear();
  });

  async function run(error: SpdyStream, data: SpdyStream): Promise<void> {
    const port = Number(data.header('port'));
    try {
      await forward(port, data);
    } catch (err) {
      // kubelet's wording: the pod is the sandbox id; a CRI server has no pod UID.
      error.write(`error forwarding port ${port} to pod ${podSandboxId}, uid : ${(err as Error).message}`);
    }
    if (!data.writableEnded && !data.destroyed) data.end();
    if (!error.writableEnded && !error.destroyed) error.end();
  }
}

/**
 * The `requestID` header; clients older than it pair streams by id: the error stream's own id,
 * the data stream's id minus 2 (kubelet's best effort for them).
 */
function requestId(stream: SpdyStream, type: 'error' | 'data'): string {
  const id = stream.header('requestid');
  if (id) return id;
  return String(type === 'error' ? stream.id : stream.id - 2);
}
