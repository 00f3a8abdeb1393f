/**
 * The streaming part of the CRI face in one piece: the streaming server over the engine, and
 * the Exec/Attach/PortForward handlers that hand out its URLs. It starts with the face and
 * closes with it.
 */
import type { Logger } from 'pino';
import type { ContainerEngine } from '../../engine/containers/compose';
import type { RuntimeHandlers } from '../server';
import { streamingHandlers } from './streaming-handlers';
import { engineStreamingRuntime } from './streaming-runtime';
import { startStreamingServer } from './streaming-server';

export interface CriStreaming {
  handlers: Pick<RuntimeHandlers, 'Exec' | 'Attach' | 'PortForward'>;
  baseUrl: string;
  close(): Promise<void>;
}

export async function startCriStreaming(deps: { containers: ContainerEngine; address: string; log: Logger }): Promise<CriStreaming> {
  const server = await startStreamingServer({ address: deps.address, runtime: engineStreamingRuntime(deps.containers), log: deps.log });
  return { handlers: streamingHandlers({ containers: deps.containers, streaming: server }), baseUrl: server.baseUrl, close: () => server.close() };
}
