import { route, type RouteDef } from '../route';
import type { ImageBackend } from './backend';
import { imageHandlers } from './handlers';

export function imageRoutes(backend: ImageBackend): RouteDef[] {
  const h = imageHandlers(backend);
  return [
    route({ method: 'GET', url: '/images/json', handler: h.getImagesJSON }),
    route({ method: 'POST', url: '/images/load', handler: h.postImagesLoad }),
    route({ method: 'POST', url: '/images/create', handler: h.postImagesCreate }),
    route({ method: 'GET', url: '/images/get', handler: h.getImagesGet }),
    route({ method: 'POST', url: '/images/prune', handler: h.postImagesPrune }),
    route({ method: 'GET', url: '/images/*', handler: h.getImagesByName, paths: ['/images/{name}/json', '/images/{name}/history', '/images/{name}/get'] }),
    route({ method: 'POST', url: '/images/*', handler: h.postImagesTag, paths: ['/images/{name}/tag', '/images/{name}/push'] }),
    route({ method: 'DELETE', url: '/images/*', handler: h.deleteImages, paths: ['/images/{name}'] }),
  ];
}
