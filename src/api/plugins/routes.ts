import type { RouteDef } from '../route';
import type { PluginBackend } from './backend';
import { pluginHandlers } from './handlers';

export function pluginRoutes(backend: PluginBackend): RouteDef[] {
  const h = pluginHandlers(backend) as unknown as Record<string, RouteDef['handler']>;
  return [
    { method: 'GET', url: '/plugins', handler: h.getPlugins },
    { method: 'GET', url: '/plugins/privileges', handler: h.getPluginsPrivileges },
    { method: 'POST', url: '/plugins/pull', handler: h.postPluginsPull },
    { method: 'POST', url: '/plugins/create', handler: h.postPluginsCreate },
    { method: 'GET', url: '/plugins/*', handler: h.getPluginsByName, paths: ['/plugins/{name}/json'] },
    {
      method: 'POST',
      url: '/plugins/*',
      handler: h.postPluginsByName,
      paths: ['/plugins/{name}/enable', '/plugins/{name}/disable', '/plugins/{name}/push', '/plugins/{name}/set', '/plugins/{name}/upgrade'],
    },
    { method: 'DELETE', url: '/plugins/*', handler: h.deletePlugins, paths: ['/plugins/{name}'] },
  ];
}
