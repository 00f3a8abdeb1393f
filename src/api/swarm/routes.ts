import { route, type RouteDef } from '../route';
import type { SwarmBackend } from './backend';
import { swarmHandlers } from './handlers';

/** Swarm mode's routes (moby's swarm router), answered as by a daemon outside any swarm. */
export function swarmRoutes(backend: SwarmBackend): RouteDef[] {
  const h = swarmHandlers(backend);
  return [
    route({ method: 'GET', url: '/swarm', handler: h.getSwarm }),
    route({ method: 'POST', url: '/swarm/init', handler: h.postSwarmInit }),
    route({ method: 'POST', url: '/swarm/join', handler: h.postSwarmJoin }),
    route({ method: 'POST', url: '/swarm/leave', handler: h.postSwarmLeave }),
    route({ method: 'POST', url: '/swarm/update', handler: h.postSwarmUpdate }),
    route({ method: 'GET', url: '/swarm/unlockkey', handler: h.getSwarmUnlockkey }),
    route({ method: 'POST', url: '/swarm/unlock', handler: h.postSwarmUnlock }),

    route({ method: 'GET', url: '/nodes', handler: h.getNodes }),
    route({ method: 'GET', url: '/nodes/:id', handler: h.getNodesId }),
    route({ method: 'DELETE', url: '/nodes/:id', handler: h.deleteNodesId }),
    route({ method: 'POST', url: '/nodes/:id/update', handler: h.postNodesIdUpdate }),

    route({ method: 'GET', url: '/services', handler: h.getServices }),
    route({ method: 'POST', url: '/services/create', handler: h.postServicesCreate }),
    route({ method: 'GET', url: '/services/:id', handler: h.getServicesId }),
    route({ method: 'DELETE', url: '/services/:id', handler: h.deleteServicesId }),
    route({ method: 'POST', url: '/services/:id/update', handler: h.postServicesIdUpdate }),
    route({ method: 'GET', url: '/services/:id/logs', handler: h.getServicesIdLogs }),

    route({ method: 'GET', url: '/tasks', handler: h.getTasks }),
    route({ method: 'GET', url: '/tasks/:id', handler: h.getTasksId }),
    route({ method: 'GET', url: '/tasks/:id/logs', handler: h.getTasksIdLogs }),

    route({ method: 'GET', url: '/secrets', handler: h.getSecrets }),
    route({ method: 'POST', url: '/secrets/create', handler: h.postSecretsCreate }),
    route({ method: 'GET', url: '/secrets/:id', handler: h.getSecretsId }),
    route({ method: 'DELETE', url: '/secrets/:id', handler: h.deleteSecretsId }),
    route({ method: 'POST', url: '/secrets/:id/update', handler: h.postSecretsIdUpdate }),

    route({ method: 'GET', url: '/configs', handler: h.getConfigs }),
    route({ method: 'POST', url: '/configs/create', handler: h.postConfigsCreate }),
    route({ method: 'GET', url: '/configs/:id', handler: h.getConfigsId }),
    route({ method: 'DELETE', url: '/configs/:id', handler: h.deleteConfigsId }),
    route({ method: 'POST', url: '/configs/:id/update', handler: h.postConfigsIdUpdate }),
  ];
}
