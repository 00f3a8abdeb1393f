import type { HijackRouteDef, RouteDef } from '../route';
import type { ExecBackend } from './backend';
import { execHandlers, execStartHandler } from './handlers';

export function execRoutes(backend: ExecBackend): RouteDef[] {
  const h = execHandlers(backend) as unknown as Record<string, RouteDef['handler']>;
  return [
    { method: 'POST', url: '/containers/:id/exec', handler: h.postContainerExec },
    { method: 'GET', url: '/exec/:id/json', handler: h.getExecJSON },
    { method: 'POST', url: '/exec/:id/resize', handler: h.postExecResize },
  ];
}

export function execHijackRoutes(backend: ExecBackend): HijackRouteDef[] {
  return [{ method: 'POST', url: '/exec/:id/start', handler: execStartHandler(backend) }];
}
