import { route, type HijackRouteDef, type RouteDef } from '../route';
import type { ExecBackend } from './backend';
import { execHandlers, execStartHandler } from './handlers';

export function execRoutes(backend: ExecBackend): RouteDef[] {
  const h = execHandlers(backend);
  return [
    route({ method: 'POST', url: '/containers/:id/exec', handler: h.postContainerExec }),
    route({ method: 'GET', url: '/exec/:id/json', handler: h.getExecJSON }),
    route({ method: 'POST', url: '/exec/:id/resize', handler: h.postExecResize }),
  ];
}

export function execHijackRoutes(backend: ExecBackend): HijackRouteDef[] {
  return [{ method: 'POST', url: '/exec/:id/start', handler: execStartHandler(backend) }];
}
