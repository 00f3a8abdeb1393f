import type {
  ConnectEndpointConfig,
  CreateNetworkOptions,
  InspectNetworkOptions,
  ListNetworksOptions,
  PruneNetworksResult,
} from '../../engine/networks/types';

/**
 * What the network routes need from the engine. The network service answers the network calls;
 * connect and disconnect change a container, so the container service answers those.
 */
export interface NetworkBackend {
  list(filters: Record<string, string[]>, opts: ListNetworksOptions): object[] | Promise<object[]>;
  inspect(ref: string, opts: InspectNetworkOptions): object | Promise<object>;
  create(opts: CreateNetworkOptions): Promise<{ Id: string; Warning: string }>;
  remove(ref: string): Promise<void>;
  prune(filters: Record<string, string[]>): Promise<PruneNetworksResult>;
  connect(networkRef: string, containerRef: string, endpointConfig: ConnectEndpointConfig | undefined): Promise<void>;
  disconnect(networkRef: string, containerRef: string, force: boolean): Promise<void>;
}
