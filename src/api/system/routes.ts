import { route, type RouteDef } from '../route';
import type { SystemBackend } from './backend';
import { systemHandlers } from './handlers';

export function systemRoutes(backend: SystemBackend): RouteDef[] {
  const h = systemHandlers(backend);
  return [
    route({ method: 'GET', url: '/_ping', handler: h.getPing }),
    route({ method: 'HEAD', url: '/_ping', handler: h.headPing }),
    route({ method: 'GET', url: '/version', handler: h.getVersion }),
    route({ method: 'GET', url: '/info', handler: h.getInfo }),
    route({ method: 'GET', url: '/system/df', handler: h.getSystemDf }),
    route({ method: 'POST', url: '/auth', handler: h.postAuth }),
    route({ method: 'POST', url: '/build/prune', handler: h.postBuildPrune }),
    route({ method: 'GET', url: '/events', handler: h.getEvents }),
  ];
}
