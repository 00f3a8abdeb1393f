import { route, type RouteDef } from '../route';
import type { BuildBackend } from './backend';
import { buildHandlers } from './handlers';

export function buildRoutes(backend: BuildBackend): RouteDef[] {
  const h = buildHandlers(backend);
  return [route({ method: 'POST', url: '/build', handler: h.postBuild })];
}
