import type { RouteDef } from '../route';
import type { ImageBackend } from './backend';
import { imageHandlers } from './handlers';

export function imageRoutes(backend: ImageBackend): RouteDef[] {
  const h = imageHandlers(backend) as unknown as Record<string, RouteDef['handler']>;
  return [
    { method: 'GET', url: '/images/json', handler: h.getImagesJSON },
    { method: 'POST', url: '/images/load', handler: h.postImagesLoad },
    { method: 'POST', url: '/images/create', handler: h.postImagesCreate },
    { method: 'GET', url: '/images/get', handler: h.getImagesGet },
    { method: 'POST', url: '/images/prune', handler: h.postImagesPrune },
    { method: 'GET', url: '/images/*', handler: h.getImagesByName, paths: ['/images/{name}/json', '/images/{name}/history', '/images/{name}/get'] },
    { method: 'POST', url: '/images/*', handler: h.postImagesTag, paths: ['/images/{name}/tag', '/images/{name}/push'] },
    { method: 'DELETE', url: '/images/*', handler: h.deleteImages, paths: ['/images/{name}'] },
  ];
}
