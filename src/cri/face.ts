/**
 * The CRI face: the handler groups kubelet's two services are made of, composed over the same
 * engine the Docker API drives (one store, one image set). Each group lives in its own module;
 * this file only joins them and starts the server.
 */
import type { Logger } from 'pino';
import type { ContainerEngine } from '../engine/containers/compose';
import type { ImageService } from '../engine/images/image-service';
import { PodCni } from '../network/pod-cni';
import { podNetworkHooks } from './pod-network-hooks';
import { join } from 'node:path';
import { runtimeInfoHandlers } from './runtime-info';
import { sandboxHandlers } from './sandboxes';
import { infraImage, infraImageRef } from './infra-image';
import { imageHandlers } from './image-handlers';
import { podContainerHandlers } from './pod-containers';
import { startCriStreaming } from './streaming/cri-streaming';
import { startCriServer, type CriServer, type ImageHandlers, type RuntimeHandlers } from './server';

/** The daemon's CRI settings (src/config.ts CriConfig). */
export interface CriSettings {
  socket: string;
  cniConfDir: string;
  cniBinDirs: readonly string[];
  podInfraImage?: string;
  streamingAddress: string;
}

export interface CriFaceDeps {
  config: CriSettings;
  version: string;
  containers: ContainerEngine;
  images: ImageService;
  /** Pods' runtime when kubelet names none (see sandboxes.ts). */
  podRuntime?: string;
  /** The daemon's exec root: pods' pinned namespaces live in `<exec-root>/pods`. */
  execRoot: string;
  /** `<data-root>/image`. */
  imageRoot: string;
  log: Logger;
}

export async function startCriFace(deps: CriFaceDeps): Promise<CriServer> {
  const { config } = deps;
  const streaming = await startCriStreaming({ containers: deps.containers, address: config.streamingAddress, log: deps.log });
  const infraOpts = { version: deps.version, configured: config.podInfraImage };
  const podCni = new PodCni({ dir: join(deps.execRoot, 'pods'), confDir: config.cniConfDir, binDirs: config.cniBinDirs });
  const runtime: RuntimeHandlers = {
    ...runtimeInfoHandlers({
      version: deps.version,
      networkNotReady: () => podCni.notReady(),
      setPodCidr: (podCidr) => deps.log.info({ podCidr }, 'pod CIDR set by kubelet'),
    }),
    ...sandboxHandlers({
      containers: deps.containers,
      network: podNetworkHooks(podCni),
      podRuntime: deps.podRuntime,
      infraImage: infraImage({ images: deps.images, ...infraOpts }),
    }),
    ...podContainerHandlers({ containers: deps.containers }),
    ...streaming.handlers,
  };
  const image: ImageHandlers = imageHandlers({
    images: deps.images,
    imageRoot: deps.imageRoot,
    pinned: () => [infraImageRef(infraOpts)],
  });
  const server = await startCriServer({ socketPath: config.socket, runtime, image, log: deps.log }).catch(async (err: unknown) => {
    await streaming.close();
    throw err;
  });
  return {
    close: async () => {
      await server.close();
      await streaming.close();
    },
  };
}
