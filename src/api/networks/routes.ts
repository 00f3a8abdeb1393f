import { route, type RouteDef } from '../route';
import type { NetworkBackend } from './backend';
import { networkHandlers } from './handlers';

export function networkRoutes(backend: NetworkBackend): RouteDef[] {
  const h = networkHandlers(backend);
  return [
    route({ method: 'GET', url: '/networks', handler: h.getNetworksList }),
    route({ method: 'GET', url: '/networks/:id', handler: h.getNetworksByName }),
    route({ method: 'POST', url: '/networks/create', handler: h.postNetworksCreate }),
    route({ method: 'POST', url: '/networks/prune', handler: h.postNetworksPrune, minVersion: '1.25' }),
    route({ method: 'POST', url: '/networks/:id/connect', handler: h.postNetworksConnect }),
    route({ method: 'POST', url: '/networks/:id/disconnect', handler: h.postNetworksDisconnect }),
    route({ method: 'DELETE', url: '/networks/:id', handler: h.deleteNetworks }),
  ];
}
