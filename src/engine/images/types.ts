/** Image and layer records as stored in LevelDB (see engine/store/schema.ts). */

/** The OCI/Docker image config JSON, as found in the config blob (fields Berth reads). */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerImageConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; empty_layer?: boolean; comment?: string; author?: string }>;
  [key: string]: unknown;
}

/** The `config` section of an image (Docker's ContainerConfig subset stored in images). */
export interface ContainerImageConfig {
  User?: string;
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: unknown;
  Shell?: string[];
  OnBuild?: string[] | null;
  [key: string]: unknown;
}

/** The manifest format an image is pushed in: dockerd's Docker v2 schema 2, or OCI. */
export type ImageFormat = 'docker' | 'oci';

export interface ImageRecord {
  /** `sha256:<hex>` of the config blob: what dockerd calls the image ID. */
  id: string;
  /** Parsed config blob. */
  config: ImageConfigFile;
  /** Chain IDs of the image's layers, bottom to top (LayerRecord keys). */
  chainIds: string[];
  /** Sum of the unpacked layer sizes in bytes. */
  size: number;
  repoDigests: string[];
  /** When this daemon first stored the image (RFC3339). */
  loadedAt: string;
  /** When the image was last tagged with `docker tag` (RFC3339), shown as Metadata.LastTagTime. */
  lastTagTime?: string;
  /**
   * Set when the image was force-removed while containers still used it. Such a record is
   * invisible (list, inspect, resolve, tags) and only keeps its layers for those containers
   * (layerDirs still answers); it is dropped once no container uses the image.
   */
  removed?: boolean;
  /** The image this one was made from locally (docker commit, docker build), shown as Parent. */
  parent?: string;
  /**
   * For images a build step made: what that step was (instruction, config, inputs), so a later
   * build finds the child of the same parent with the same key and reuses it (the build cache).
   */
  buildKey?: string;
  /**
   * `oci` for an image pulled with an OCI manifest or loaded from an OCI image layout (no
   * manifest.json): it is pushed as OCI. Absent for Docker images (loaded from docker save,
   * pulled as Docker, built, committed), which are pushed as Docker v2 schema 2, as dockerd does.
   */
  format?: ImageFormat;
}

export interface LayerRecord {
  chainId: string;
  diffId: string;
  /** Unpacked size in bytes. */
  size: number;
  /** How many images reference this layer. */
  refs: number;
  /**
   * The layer as it arrived (a load's layer file, a commit's tar), kept as `blob` in the layer's
   * dir so save and push can hand out the exact bytes its digests name. Absent for layers stored
   * before Berth kept them.
   */
  blob?: LayerBlob;
  /** Repositories (`<domain>/<path>`) known to hold `blob`, newest first (see layer-sources.ts). */
  sources?: string[];
}

export interface LayerBlob {
  digest: string;
  size: number;
  compression: 'none' | 'gzip';
  /** Its file in the layer's dir: `blob` unless it was compressed for a push (`blob.gz`). */
  file?: string;
}
