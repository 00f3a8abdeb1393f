/**
 * The whole API from its backends: every resource's routes (moby's router list) and the server
 * that serves them. The daemon passes the engine's services; tests pass small fakes.
 */
import type { FastifyInstance } from 'fastify';
import type { BuildBackend } from './build/backend';
import { buildRoutes } from './build/routes';
import type { ContainerBackend } from './containers/backend';
import { containerHijackRoutes, containerRoutes, containerWsRoutes } from './containers/routes';
import type { DistributionBackend } from './distribution/backend';
import { distributionRoutes } from './distribution/routes';
import type { ExecBackend } from './exec/backend';
import { execHijackRoutes, execRoutes } from './exec/routes';
import type { ImageBackend } from './images/backend';
import { imageRoutes } from './images/routes';
import type { NetworkBackend } from './networks/backend';
import { networkRoutes } from './networks/routes';
import type { PluginBackend } from './plugins/backend';
import { pluginRoutes } from './plugins/routes';
import type { HijackRouteDef, RouteDef, WsRouteDef } from './route';
import { buildApiServer, type ApiServerOptions } from './server';
import type { SwarmBackend } from './swarm/backend';
import { swarmRoutes } from './swarm/routes';
import type { SystemBackend } from './system/backend';
import { systemRoutes } from './system/routes';
import type { VolumeBackend } from './volumes/backend';
import { volumeRoutes } from './volumes/routes';

/** One backend per API resource. */
export interface ApiBackends {
  system: SystemBackend;
  containers: ContainerBackend;
  images: ImageBackend;
  builds: BuildBackend;
  networks: NetworkBackend;
  volumes: VolumeBackend;
  execs: ExecBackend;
  swarm: SwarmBackend;
  plugins: PluginBackend;
  distribution: DistributionBackend;
}

/** Every route the API serves, per plugin; also what the OpenAPI test checks. */
export interface ApiRoutes {
  routes: RouteDef[];
  hijackRoutes: HijackRouteDef[];
  wsRoutes: WsRouteDef[];
}

export function apiRoutes(services: ApiBackends): ApiRoutes {
  return {
    routes: [
      ...systemRoutes(services.system),
      ...containerRoutes(services.containers),
      ...imageRoutes(services.images),
      ...buildRoutes(services.builds),
      ...networkRoutes(services.networks),
      ...volumeRoutes(services.volumes),
      ...execRoutes(services.execs),
      ...swarmRoutes(services.swarm),
      ...pluginRoutes(services.plugins),
      ...distributionRoutes(services.distribution),
    ],
    hijackRoutes: [...containerHijackRoutes(services.containers), ...execHijackRoutes(services.execs)],
    wsRoutes: containerWsRoutes(services.containers),
  };
}

/** The API server for these backends (not listening: the daemon feeds it connections, tests `inject()`). */
export function buildApi(backends: ApiBackends, options: Omit<ApiServerOptions, keyof ApiRoutes>): FastifyInstance {
  return buildApiServer({ ...options, ...apiRoutes(backends) });
}
