/** `docker create`: checks a request, plans the container's network and mounts, stores its record. */
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import type { Logger } from 'pino';
import { InvalidParameterError } from '../../errors';
import { mergeImageConfig, validateConfig } from './config-merge';
import type { ImageLookup, RuntimeLookup } from './container-deps';
import type { ContainerNetworking } from './container-network';
import type { ContainerRecords } from './container-records';
import { createVolumes, removeAnonymousVolumes } from './container-volumes';
import { hostDevices, hostResources, ulimits } from './host-resources';
import { normalizeLogConfig, validateLogConfig } from './log-config';
import { discardCgroupLimits } from './no-cgroup-limits';
import type { VolumeLookup } from './mount-spec';
import { parseVolumesFrom, planMounts } from './mounts';
import { generateId } from '../ids';
import { ALL_CAPABILITIES } from '../../runtime/capabilities';
import { hostCapabilities } from './oci-spec';
import { validateRestartPolicy } from './restart-policy';
import { NULL_TIME, type ContainerRecord, type CreateContainerOptions, type HostConfig, type RestartPolicy } from './types';
import { hostRoot, type IdMap } from '../userns/id-map';
import { checkUsernsMode, containerIdMap } from './userns-mode';
import type { ContainerDirs } from './container-files';

export interface ContainerCreationDeps {
  records: ContainerRecords;
  images: ImageLookup;
  runtimes: RuntimeLookup;
  networking: ContainerNetworking;
  volumes: VolumeLookup;
  log: Logger;
  /** `--userns-remap`: the daemon's mapping (its root's group may traverse the container's dir). */
  idMap?: IdMap;
}

/** Checks limits, ulimits and devices now (400 at create, not at start); returns dockerd-style warnings. */
function checkHostConfig(hc: HostConfig): string[] {
  validateLogConfig(hc.LogConfig);
  hostResources(hc);
  ulimits(hc);
  hostDevices(hc);
  const warnings: string[] = [];
  if (hc.Privileged) {
    const missing = ALL_CAPABILITIES.filter((cap) => !hostCapabilities().includes(cap));
    if (missing.length) warnings.push(`Privileged: this host does not grant ${missing.join(', ')}; the container gets every other capability`);
  }
  return warnings;
}

export class ContainerCreation {
  constructor(private readonly deps: ContainerCreationDeps) {}

  async create(opts: CreateContainerOptions): Promise<{ Id: string; Warnings: string[] }> {
    const { records } = this.deps;
    // Runtimes that can use no cgroup (a rootless daemon on cgroup v1): limits go, with warnings.
    const discarded = this.deps.runtimes.cgroupLimits === false ? discardCgroupLimits(opts.hostConfig ?? {}) : undefined;
    if (discarded) opts = { ...opts, hostConfig: discarded.hostConfig };
    validateConfig(opts.config);
    validateRestartPolicy(opts.hostConfig?.RestartPolicy as RestartPolicy | undefined, !!opts.hostConfig?.AutoRemove);
    const warnings = checkHostConfig(opts.hostConfig ?? {});
    checkUsernsMode(opts.hostConfig ?? {}, !!this.deps.idMap);
    const hostConfig = { ...(opts.hostConfig ?? {}) };
    const runtimeName = hostConfig.Runtime || this.deps.runtimes.defaultName;
    this.deps.runtimes.get(runtimeName);
    if (!opts.config.Image) throw new InvalidParameterError('No image specified');
    const image = await this.deps.images.resolve(opts.config.Image);
    const merged = mergeImageConfig(opts.config, image);
    const network = await this.deps.networking.plan(opts.config, hostConfig, opts.networkingConfig);
    const from = parseVolumesFrom(hostConfig.VolumesFrom ?? []).map(({ ref, mode }) => ({ mounts: records.get(ref).mounts ?? [], mode }));
    const mounts = planMounts(merged.config, hostConfig, from);
    const id = generateId();
    const record: ContainerRecord = {
      id,
      name: '',
      created: new Date().toISOString(),
      config: { ...merged.config, Hostname: opts.config.Hostname || (hostConfig.NetworkMode === 'host' ? osHostname() : id.slice(0, 12)) },
      hostConfig: { ...hostConfig, Runtime: runtimeName, LogConfig: normalizeLogConfig(hostConfig.LogConfig) },
      image: image.id,
      path: merged.path,
      args: merged.args,
      runtime: runtimeName,
      restartCount: 0,
      hasBeenManuallyStopped: false,
      network,
      mounts,
      ...(opts.monitorLogPath ? { monitorLogPath: opts.monitorLogPath } : {}),
      state: {
        Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: 0, ExitCode: 0, Error: '', StartedAt: NULL_TIME, FinishedAt: NULL_TIME,
      },
    };
    await mkdir(records.dirs(id).dir, { recursive: true });
    try {
      if (this.deps.idMap) await ownContainerDirs(records.dirs(id), this.deps.idMap, containerIdMap(this.deps.idMap, hostConfig));
      await createVolumes(this.deps.volumes, mounts);
      await records.add(record, opts.name);
    } catch (err) {
      await rm(records.dirs(id).dir, { recursive: true, force: true });
      await removeAnonymousVolumes(this.deps.volumes, this.deps.log, mounts);
      throw err;
    }
    this.deps.log.debug({ container: id }, 'container created');
    records.emit(record, 'create');
    return { Id: id, Warnings: [...(discarded?.warnings ?? []), ...warnings] };
  }
}

/**
 * dockerd's container dir under userns-remap: 0710 root:<remapped root's group>, so the
 * container's root can reach its rootfs and /etc files but read nothing else there. The upper
 * dir (the rootfs's own top, dockerd's `diff`) belongs to the root of the container's mapping,
 * so that root can create the runtime's mount points and its files at `/`.
 */
async function ownContainerDirs(d: ContainerDirs, daemonMap: IdMap, containerMap: IdMap | undefined): Promise<void> {
  await chown(d.dir, 0, hostRoot(daemonMap).gid);
  await chmod(d.dir, 0o710);
  if (!containerMap) return;
  const root = hostRoot(containerMap);
  await mkdir(d.upper, { mode: 0o755 });
  await chown(d.upper, root.uid, root.gid);
}
