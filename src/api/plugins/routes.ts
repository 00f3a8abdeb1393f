import { route, type RouteDef } from '../route';
import type { PluginBackend } from './backend';
import { pluginHandlers } from './handlers';

export function pluginRoutes(backend: PluginBackend): RouteDef[] {
  const h = pluginHandlers(backend);
  return [
    route({ method: 'GET', url: '/plugins', handler: h.getPlugins }),
    route({ method: 'GET', url: '/plugins/privileges', handler: h.getPluginsPrivileges }),
    route({ method: 'POST', url: '/plugins/pull', handler: h.postPluginsPull }),
    route({ method: 'POST', url: '/plugins/create', handler: h.postPluginsCreate }),
    route({ method: 'GET', url: '/plugins/*', handler: h.getPluginsByName, paths: ['/plugins/{name}/json'] }),
    route({
      method: 'POST',
      url: '/plugins/*',
      handler: h.postPluginsByName,
      paths: ['/plugins/{name}/enable', '/plugins/{name}/disable', '/plugins/{name}/push', '/plugins/{name}/set', '/plugins/{name}/upgrade'],
    }),
    route({ method: 'DELETE', url: '/plugins/*', handler: h.deletePlugins, paths: ['/plugins/{name}'] }),
  ];
}
