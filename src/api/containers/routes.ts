import { route, type HijackRouteDef, type RouteDef, type WsRouteDef } from '../route';
import type { ContainerBackend } from './backend';
import { attachHandler, attachWsHandler, containerHandlers } from './handlers';

export function containerRoutes(backend: ContainerBackend): RouteDef[] {
  const h = containerHandlers(backend);
  return [
    route({ method: 'GET', url: '/containers/json', handler: h.getContainersJSON }),
    route({ method: 'POST', url: '/containers/create', handler: h.postContainersCreate }),
    route({ method: 'POST', url: '/containers/prune', handler: h.postContainersPrune, minVersion: '1.25' }),
    route({ method: 'GET', url: '/containers/:id/json', handler: h.getContainersByName }),
    route({ method: 'GET', url: '/containers/:id/logs', handler: h.getContainersLogs }),
    route({ method: 'POST', url: '/containers/:id/start', handler: h.postContainersStart }),
    route({ method: 'POST', url: '/containers/:id/stop', handler: h.postContainersStop }),
    route({ method: 'POST', url: '/containers/:id/restart', handler: h.postContainersRestart }),
    route({ method: 'POST', url: '/containers/:id/kill', handler: h.postContainersKill }),
    route({ method: 'GET', url: '/containers/:id/top', handler: h.getContainersTop }),
    route({ method: 'POST', url: '/containers/:id/update', handler: h.postContainersUpdate }),
    route({ method: 'GET', url: '/containers/:id/stats', handler: h.getContainersStats }),
    route({ method: 'POST', url: '/containers/:id/pause', handler: h.postContainersPause }),
    route({ method: 'POST', url: '/containers/:id/unpause', handler: h.postContainersUnpause }),
    route({ method: 'POST', url: '/containers/:id/wait', handler: h.postContainersWait }),
    route({ method: 'POST', url: '/containers/:id/rename', handler: h.postContainersRename }),
    route({ method: 'POST', url: '/containers/:id/resize', handler: h.postContainersResize }),
    route({ method: 'DELETE', url: '/containers/*', handler: h.deleteContainers, paths: ['/containers/{id}'] }),
    route({ method: 'HEAD', url: '/containers/:id/archive', handler: h.headContainersArchive }),
    route({ method: 'GET', url: '/containers/:id/archive', handler: h.getContainersArchive }),
    route({ method: 'PUT', url: '/containers/:id/archive', handler: h.putContainersArchive }),
    route({ method: 'GET', url: '/containers/:id/export', handler: h.getContainersExport }),
    route({ method: 'GET', url: '/containers/:id/changes', handler: h.getContainersChanges }),
    route({ method: 'POST', url: '/commit', handler: h.postCommit }),
  ];
}

export function containerHijackRoutes(backend: ContainerBackend): HijackRouteDef[] {
  return [{ method: 'POST', url: '/containers/:id/attach', handler: attachHandler(backend) }];
}

export function containerWsRoutes(backend: ContainerBackend): WsRouteDef[] {
  return [{ method: 'GET', url: '/containers/:id/attach/ws', handler: attachWsHandler(backend) }];
}
