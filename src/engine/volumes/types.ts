/** Volume records, options and views (Docker Engine API v1.51 `Volume`). */

/** A volume as stored under `volume:<name>` (store/schema.ts). */
export interface VolumeRecord {
  name: string;
  driver: 'local';
  /** RFC 3339 with seconds and the host's zone, as dockerd shows it. */
  createdAt: string;
  /** As the client gave them; null when it gave none (dockerd shows `null`, `{}` stays `{}`). */
  labels: Record<string, string> | null;
  /** Local driver options (`type`, `device`, `o`) as given, or null. */
  options: Record<string, string> | null;
}

export interface CreateVolumeOptions {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** The API's `Volume` object. */
export interface VolumeView {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
}

export interface VolumeListResult {
  Volumes: VolumeView[];
  Warnings: string[] | null;
}

export interface VolumePruneResult {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

/**
 * How a container mounts a volume (a description; the container service builds the OCI mount):
 * - `bind`: bind `source` (the volume's `_data`, or the host path of `type=none o=bind`);
 * - `tmpfs`: a fresh tmpfs per container with `options` (`type=tmpfs`);
 * - `mount`: `source` is `_data`, on which the volume service mounted `device` (`fstype`);
 *   bind it like `bind`.
 */
export interface VolumeMountSource {
  source: string;
  type: 'bind' | 'tmpfs' | 'mount';
  options?: string[];
  device?: string;
  fstype?: string;
}

/** dockerd's volume label on anonymous volumes (API ≥ 1.42 prunes only these by default). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
