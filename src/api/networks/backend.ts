import type {
  ConnectEndpointConfig,
  CreateNetworkOptions,
  InspectNetworkOptions,
  ListNetworksOptions,
  NetworkInspect,
  PruneNetworksResult,
} from '../../engine/networks/types';
import type { Filters } from '../../engine/filter-args';

/**
 * What the network routes need from the engine. The network service answers the network calls;
 * connect and disconnect change a container, so the container service answers those.
 */
export interface NetworkBackend {
  list(filters: Filters, opts: ListNetworksOptions): NetworkInspect[] | Promise<NetworkInspect[]>;
  inspect(ref: string, opts: InspectNetworkOptions): NetworkInspect | Promise<NetworkInspect>;
  create(opts: CreateNetworkOptions): Promise<{ Id: string; Warning: string }>;
  remove(ref: string): Promise<void>;
  prune(filters: Filters): Promise<PruneNetworksResult>;
  connect(networkRef: string, containerRef: string, endpointConfig: ConnectEndpointConfig | undefined): Promise<void>;
  disconnect(networkRef: string, containerRef: string, force: boolean): Promise<void>;
}
