import { route, type RouteDef } from '../route';
import type { VolumeBackend } from './backend';
import { volumeHandlers } from './handlers';

export function volumeRoutes(backend: VolumeBackend): RouteDef[] {
  const h = volumeHandlers(backend);
  return [
    route({ method: 'GET', url: '/volumes', handler: h.getVolumesList }),
    route({ method: 'POST', url: '/volumes/create', handler: h.postVolumesCreate }),
    route({ method: 'POST', url: '/volumes/prune', handler: h.postVolumesPrune, minVersion: '1.25' }),
    route({ method: 'GET', url: '/volumes/:name', handler: h.getVolumesByName }),
    route({ method: 'DELETE', url: '/volumes/:name', handler: h.deleteVolumes }),
  ];
}
