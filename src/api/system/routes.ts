import type { RouteDef } from '../route';
import type { SystemBackend } from './backend';
import { systemHandlers } from './handlers';

export function systemRoutes(backend: SystemBackend): RouteDef[] {
  const h = systemHandlers(backend);
  return [
    { method: 'GET', url: '/_ping', handler: h.getPing },
    { method: 'HEAD', url: '/_ping', handler: h.headPing },
    { method: 'GET', url: '/version', handler: h.getVersion },
    { method: 'GET', url: '/info', handler: h.getInfo },
    { method: 'GET', url: '/system/df', handler: h.getSystemDf },
    { method: 'POST', url: '/auth', handler: h.postAuth as RouteDef['handler'] },
    { method: 'POST', url: '/build/prune', handler: h.postBuildPrune },
    { method: 'GET', url: '/events', handler: h.getEvents as RouteDef['handler'] },
  ];
}
