import type { RouteDef } from '../route';
import type { BuildBackend } from './backend';
import { buildHandlers } from './handlers';

export function buildRoutes(backend: BuildBackend): RouteDef[] {
  const h = buildHandlers(backend) as unknown as Record<string, RouteDef['handler']>;
  return [{ method: 'POST', url: '/build', handler: h.postBuild }];
}
