import type { RouteDef } from '../route';
import type { VolumeBackend } from './backend';
import { volumeHandlers } from './handlers';

export function volumeRoutes(backend: VolumeBackend): RouteDef[] {
  const h = volumeHandlers(backend) as unknown as Record<string, RouteDef['handler']>;
  return [
    { method: 'GET', url: '/volumes', handler: h.getVolumesList },
    { method: 'POST', url: '/volumes/create', handler: h.postVolumesCreate },
    { method: 'POST', url: '/volumes/prune', handler: h.postVolumesPrune, minVersion: '1.25' },
    { method: 'GET', url: '/volumes/:name', handler: h.getVolumesByName },
    { method: 'DELETE', url: '/volumes/:name', handler: h.deleteVolumes },
  ];
}
