/**
 * What the container engine needs from the rest of the daemon (images, runtimes, the monitor,
 * networks, volumes, the store, events), as narrow interfaces the daemon's services satisfy.
 */
import type { StorageDriverName } from '../../host/overlay-driver';
import type { Logger } from 'pino';
import type { ContainerMonitor, OciRuntime } from '../../runtime/types';
import type { EventSink } from '../events/event-log';
import type { CommitImageOptions } from '../images/image-service';
import type { ImageRecord } from '../images/types';
import type { Store } from '../store/store';
import type { IdMap } from '../userns/id-map';
import type { NetworkDirectory } from './container-network';
import type { Plumbing } from './endpoints';
import type { VolumeLookup } from './mount-spec';
import type { DaemonSeccomp } from './seccomp';

/** What the container engine needs from the image service. */
export interface ImageLookup {
  commit(opts: CommitImageOptions): Promise<string>;
  resolve(ref: string): Promise<ImageRecord>;
  layerDirs(imageId: string): Promise<string[]>;
  /** Frees images force-removed while containers still used them, once they no longer do. */
  releaseRemoved(): Promise<void>;
}

/** What the container engine needs from the runtime registry. */
export interface RuntimeLookup {
  readonly defaultName: string;
  /** Validates a name a client asked for (400 when unknown). */
  get(name: string): OciRuntime;
  /** The runtime of an existing container; a stand-in that fails each call if it is gone. */
  forContainer(name: string): OciRuntime;
  /** false when the runtimes can place containers in no cgroup (rootless on cgroup v1): limits are discarded. */
  readonly cgroupLimits?: boolean;
}

export interface ExitWatch {
  close(): void;
}

export interface ContainerEngineDeps {
  store: Store;
  /** `<data-root>/containers` */
  root: string;
  log: Logger;
  images: ImageLookup;
  runtimes: RuntimeLookup;
  monitor: ContainerMonitor;
  /** Calls `onExit` once the monitor has written the exit file of container `id`. */
  watchExit(exitDir: string, id: string, onExit: () => void): ExitWatch;
  cgroupVersion: 1 | 2;
  plumbing: Plumbing;
  networks: NetworkDirectory;
  volumes: VolumeLookup;
  events?: EventSink;
  /** The daemon's seccomp setting (`--seccomp-profile`). */
  seccomp: DaemonSeccomp;
  /** `--userns-remap`: the daemon's id mapping (none: containers run with the host's ids). */
  idMap?: IdMap;
  /** How container rootfs overlays are mounted (default overlay2; see host/overlay-driver.ts). */
  storageDriver?: StorageDriverName;
}
