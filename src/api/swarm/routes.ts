import type { RouteDef } from '../route';
import type { SwarmBackend } from './backend';
import { swarmHandlers } from './handlers';

/** Swarm mode's routes (moby's swarm router), answered as by a daemon outside any swarm. */
export function swarmRoutes(backend: SwarmBackend): RouteDef[] {
  const h = swarmHandlers(backend) as unknown as Record<string, RouteDef['handler']>;
  return [
    { method: 'GET', url: '/swarm', handler: h.getSwarm },
    { method: 'POST', url: '/swarm/init', handler: h.postSwarmInit },
    { method: 'POST', url: '/swarm/join', handler: h.postSwarmJoin },
    { method: 'POST', url: '/swarm/leave', handler: h.postSwarmLeave },
    { method: 'POST', url: '/swarm/update', handler: h.postSwarmUpdate },
    { method: 'GET', url: '/swarm/unlockkey', handler: h.getSwarmUnlockkey },
    { method: 'POST', url: '/swarm/unlock', handler: h.postSwarmUnlock },

    { method: 'GET', url: '/nodes', handler: h.getNodes },
    { method: 'GET', url: '/nodes/:id', handler: h.getNodesId },
    { method: 'DELETE', url: '/nodes/:id', handler: h.deleteNodesId },
    { method: 'POST', url: '/nodes/:id/update', handler: h.postNodesIdUpdate },

    { method: 'GET', url: '/services', handler: h.getServices },
    { method: 'POST', url: '/services/create', handler: h.postServicesCreate },
    { method: 'GET', url: '/services/:id', handler: h.getServicesId },
    { method: 'DELETE', url: '/services/:id', handler: h.deleteServicesId },
    { method: 'POST', url: '/services/:id/update', handler: h.postServicesIdUpdate },
    { method: 'GET', url: '/services/:id/logs', handler: h.getServicesIdLogs },

    { method: 'GET', url: '/tasks', handler: h.getTasks },
    { method: 'GET', url: '/tasks/:id', handler: h.getTasksId },
    { method: 'GET', url: '/tasks/:id/logs', handler: h.getTasksIdLogs },

    { method: 'GET', url: '/secrets', handler: h.getSecrets },
    { method: 'POST', url: '/secrets/create', handler: h.postSecretsCreate },
    { method: 'GET', url: '/secrets/:id', handler: h.getSecretsId },
    { method: 'DELETE', url: '/secrets/:id', handler: h.deleteSecretsId },
    { method: 'POST', url: '/secrets/:id/update', handler: h.postSecretsIdUpdate },

    { method: 'GET', url: '/configs', handler: h.getConfigs },
    { method: 'POST', url: '/configs/create', handler: h.postConfigsCreate },
    { method: 'GET', url: '/configs/:id', handler: h.getConfigsId },
    { method: 'DELETE', url: '/configs/:id', handler: h.deleteConfigsId },
    { method: 'POST', url: '/configs/:id/update', handler: h.postConfigsIdUpdate },
  ];
}
