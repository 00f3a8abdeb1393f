import type { HijackRouteDef, RouteDef, WsRouteDef } from '../route';
import type { ContainerBackend } from './backend';
import { attachHandler, attachWsHandler, containerHandlers } from './handlers';

export function containerRoutes(backend: ContainerBackend): RouteDef[] {
  const h = containerHandlers(backend) as unknown as Record<string, RouteDef['handler']>;
  return [
    { method: 'GET', url: '/containers/json', handler: h.getContainersJSON },
    { method: 'POST', url: '/containers/create', handler: h.postContainersCreate },
    { method: 'POST', url: '/containers/prune', handler: h.postContainersPrune, minVersion: '1.25' },
    { method: 'GET', url: '/containers/:id/json', handler: h.getContainersByName },
    { method: 'GET', url: '/containers/:id/logs', handler: h.getContainersLogs },
    { method: 'POST', url: '/containers/:id/start', handler: h.postContainersStart },
    { method: 'POST', url: '/containers/:id/stop', handler: h.postContainersStop },
    { method: 'POST', url: '/containers/:id/restart', handler: h.postContainersRestart },
    { method: 'POST', url: '/containers/:id/kill', handler: h.postContainersKill },
    { method: 'GET', url: '/containers/:id/top', handler: h.getContainersTop },
    { method: 'POST', url: '/containers/:id/update', handler: h.postContainersUpdate },
    { method: 'GET', url: '/containers/:id/stats', handler: h.getContainersStats },
    { method: 'POST', url: '/containers/:id/pause', handler: h.postContainersPause },
    { method: 'POST', url: '/containers/:id/unpause', handler: h.postContainersUnpause },
    { method: 'POST', url: '/containers/:id/wait', handler: h.postContainersWait },
    { method: 'POST', url: '/containers/:id/rename', handler: h.postContainersRename },
    { method: 'POST', url: '/containers/:id/resize', handler: h.postContainersResize },
    { method: 'DELETE', url: '/containers/*', handler: h.deleteContainers, paths: ['/containers/{id}'] },
    { method: 'HEAD', url: '/containers/:id/archive', handler: h.headContainersArchive },
    { method: 'GET', url: '/containers/:id/archive', handler: h.getContainersArchive },
    { method: 'PUT', url: '/containers/:id/archive', handler: h.putContainersArchive },
    { method: 'GET', url: '/containers/:id/export', handler: h.getContainersExport },
    { method: 'GET', url: '/containers/:id/changes', handler: h.getContainersChanges },
    { method: 'POST', url: '/commit', handler: h.postCommit },
  ];
}

export function containerHijackRoutes(backend: ContainerBackend): HijackRouteDef[] {
  return [{ method: 'POST', url: '/containers/:id/attach', handler: attachHandler(backend) }];
}

export function containerWsRoutes(backend: ContainerBackend): WsRouteDef[] {
  return [{ method: 'GET', url: '/containers/:id/attach/ws', handler: attachWsHandler(backend) }];
}
