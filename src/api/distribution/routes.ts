import { route, type RouteDef } from '../route';
import type { DistributionBackend } from './backend';
import { distributionHandlers } from './handlers';

export function distributionRoutes(backend: DistributionBackend): RouteDef[] {
  const h = distributionHandlers(backend);
  return [route({ method: 'GET', url: '/distribution/*', handler: h.getDistributionJson, paths: ['/distribution/{name}/json'], minVersion: '1.30' })];
}
