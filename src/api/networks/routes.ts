import type { RouteDef } from '../route';
import type { NetworkBackend } from './backend';
import { networkHandlers } from './handlers';

export function networkRoutes(backend: NetworkBackend): RouteDef[] {
  const h = networkHandlers(backend) as unknown as Record<string, RouteDef['handler']>;
  return [
    { method: 'GET', url: '/networks', handler: h.getNetworksList },
    { method: 'GET', url: '/networks/:id', handler: h.getNetworksByName },
    { method: 'POST', url: '/networks/create', handler: h.postNetworksCreate },
    { method: 'POST', url: '/networks/prune', handler: h.postNetworksPrune, minVersion: '1.25' },
    { method: 'POST', url: '/networks/:id/connect', handler: h.postNetworksConnect },
    { method: 'POST', url: '/networks/:id/disconnect', handler: h.postNetworksDisconnect },
    { method: 'DELETE', url: '/networks/:id', handler: h.deleteNetworks },
  ];
}
