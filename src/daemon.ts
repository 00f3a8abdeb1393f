import type { FastifyInstance } from 'fastify';
import { socketAnswers } from './host/socket-probe';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { chmod, chown } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { apiRoutes } from './api/build-api';
import { BuildService } from './engine/builder/build-service';
import { buildApiServer } from './api/server';
import { NoSwarm } from './engine/swarm/no-swarm';
import { NoPlugins } from './engine/plugins/no-plugins';
import { socketPath, type Config } from './config';
import { socketGroupId } from './socket-group';
import { rootlessSocketGroup } from './rootless/degrade';
import { runningInUserNs } from './host/userns';
import { chooseStorageDriver } from './rootless/storage-driver';
import { composeContainers, type ContainerEngine } from './engine/containers/compose';
import type { ContainerBackend } from './api/containers/backend';
import type { BuildContainers, BuildImages } from './engine/builder/build-ports';
import { readHostResolvConf } from './engine/containers/etc-files';
import { ImageService } from './engine/images/image-service';
import type { ImageBackend } from './api/images/backend';
import { DISABLED_BRIDGE, NetworkService } from './engine/networks/network-service';
import { VolumeService } from './engine/volumes/volume-service';
import { CniNetworkPlumbing } from './network/plumbing';
import { dialLoopbackVia, SLIRP4NETNS_HOST_LOOPBACK } from './engine/registry/loopback-dial';
import { Store } from './engine/store/store';
import { SystemService } from './engine/system/system-service';
import { detectCgroupLayout } from './runtime/cgroups';
import { detectRootlessCgroups } from './runtime/rootless-cgroups';
import { ConmonMonitor, watchExit } from './runtime/conmon';
import { RuntimeRegistry } from './runtime/registry';
import { EventLog } from './engine/events/event-log';
import { diskUsage } from './engine/system/disk-usage';
import { loadDaemonSeccomp } from './engine/containers/seccomp-default';
import { watchEventLoopDelay } from './event-loop-delay';
import { API_NICE, setThreadPriority } from './host/thread-priority';
import { resolveUsernsRemap } from './engine/userns/remap-config';
import { setupRemappedRoot } from './engine/userns/remap-root';
import { hostRoot } from './engine/userns/id-map';
import * as systemUsers from './host/system-users';
import { assertIdmappedOverlaySupported } from './host/idmapped-overlay';
import { startCriFace } from './cri/face';
import { dirname } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const VERSION: string = require('../../package.json').version;

export interface RunningDaemon {
  log: Logger;
  app: FastifyInstance;
  stop(): Promise<void>;
}

/** The one place that builds services and hands each API plugin its backend. */
export async function startDaemon(config: Config): Promise<RunningDaemon> {
  const log = pino({ level: config.logLevel, base: { pid: process.pid } });
  // Before anything is created: a socket group that does not exist stops the start.
  const socketGid = config.rootless ? rootlessSocketGroup(config.group, log) : socketGroupId(config.group, (msg) => log.warn(msg));
  // Likewise a seccomp profile that cannot be honoured: no container may run without it.
  const seccomp = loadDaemonSeccomp(config.seccompProfile);
  // userns-remap: the mapping (or a refusal, as dockerd's), then dockerd's `<data-root>/<uid>.<gid>`.
  const remap = config.userNsRemap ? await resolveUsernsRemap(config.userNsRemap, systemUsers, { info: (m) => log.info(m), warn: (m) => log.warn(m) }) : undefined;
  await mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
  const dataRoot = remap ? await setupRemappedRoot(config.dataRoot, remap.idMap) : config.dataRoot;
  // Layers are mounted idmapped, never copied: a kernel or filesystem that cannot stops the start.
  if (remap) await assertIdmappedOverlaySupported(dataRoot);
  await mkdir(config.execRoot, { recursive: true, mode: 0o700 });
  if (remap && config.storageDriver === 'fuse-overlayfs') throw new Error('--userns-remap needs the overlay2 storage driver (layers are mounted idmapped), not fuse-overlayfs');
  // Rootless: overlayfs in the user namespace, else fuse-overlayfs (rootless/storage-driver.ts).
  const storageDriver = await chooseStorageDriver({ configured: config.storageDriver, inUserNs: runningInUserNs(), dataRoot, log });

  const store = new Store(join(dataRoot, 'db'));
  try {
    await store.open();
  } catch (err) {
    const locked = /lock/i.test(String((err as { cause?: Error }).cause?.message ?? (err as Error).message));
    throw new Error(locked ? `another berthd is already using data root ${dataRoot}` : `cannot open the store: ${(err as Error).message}`, { cause: err });
  }

  try {
    const cgroupLayout = detectCgroupLayout();
    const runtimes = await RuntimeRegistry.create({
      execRoot: config.execRoot,
      configured: config.runtimes,
      defaultRuntime: config.defaultRuntime,
      cgroupLayout,
      rootless: config.rootless && detectRootlessCgroups(cgroupLayout),
      log: log.child({ module: 'runtime' }),
    });
    const monitor = new ConmonMonitor({ log: log.child({ module: 'runtime' }), execRoot: config.execRoot });

    // Rootless: rootlesskit's state dir (its api.sock publishes ports on the host).
    const rootlessKitStateDir = config.rootless?.stateDir;
    const plumbing = new CniNetworkPlumbing({
      execRoot: config.execRoot,
      dataRoot,
      iptables: config.iptables,
      userlandProxy: config.userlandProxy,
      upstreamResolvers: config.dnsUpstreams ?? (await hostResolvers()),
      log: log.child({ module: 'network' }),
      rootlessKitApiSocket: rootlessKitStateDir && join(rootlessKitStateDir, 'api.sock'),
    });
    // Rootless: a registry on "localhost" is on the host's loopback, reached through slirp4netns.
    dialLoopbackVia(rootlessKitStateDir && SLIRP4NETNS_HOST_LOOPBACK);

    let containers: ContainerEngine | undefined;
    const events = new EventLog();
    const volumes = new VolumeService({
      events,
      store,
      root: join(dataRoot, 'volumes'),
      log: log.child({ module: 'engine.volumes' }),
      dataOwner: remap && hostRoot(remap.idMap),
      usersOf: (name) => containers?.queries.usersOfVolume(name) ?? [],
    });
    const networks = new NetworkService({
      events,
      store,
      log: log.child({ module: 'engine.networks' }),
      plumbing,
      defaults: { bridgeName: config.bridge, bip: config.bip, iptables: config.iptables },
      endpointsOf: (networkId) => containers?.networking.endpoints.endpointsOn(networkId) ?? [],
      exitsReleased: () => containers?.runs.exitsReleased() ?? Promise.resolve(),
    });
    // The container engine sees networks in the API's terms (Id, Name, Driver).
    const networkDirectory = {
      get: (ref: string) => {
        const n = networks.get(ref);
        return { Id: n.id, Name: n.name, Driver: n.driver };
      },
      specOf: (n: { Id: string }) => networks.specOf(networks.get(n.Id)),
      defaultBridgeDisabled: config.bridge === DISABLED_BRIDGE,
    };
    const images = new ImageService({
      events,
      insecureRegistries: config.insecureRegistries,
      registryMirrors: config.registryMirrors,
      registryHostMirrors: config.registryHostMirrors,
      registryCertsDir: config.registryCertsDir,
      store,
      root: join(dataRoot, 'image'),
      log: log.child({ module: 'engine.images' }),
      storageDriver,
      imageUsers: async (imageId) => containers?.queries.usersOfImage(imageId) ?? [],
      containerRunning: (id) => containers?.queries.isRunning(id) ?? false,
    });
    containers = composeContainers({
      events,
      store,
      root: join(dataRoot, 'containers'),
      log: log.child({ module: 'engine.containers' }),
      images: {
        commit: (opts) => images.commit(opts),
        resolve: (ref) => images.records.resolve(ref),
        layerDirs: (imageId) => images.records.layerDirs(imageId),
        releaseRemoved: () => images.removal.releaseRemoved(),
      },
      runtimes,
      monitor,
      watchExit,
      cgroupVersion: cgroupLayout === 'v2' ? 2 : 1,
      plumbing,
      networks: networkDirectory,
      volumes,
      seccomp,
      idMap: remap?.idMap,
      storageDriver,
    });
    const system = new SystemService({
      events,
      registries: { insecure: config.insecureRegistries, mirrors: config.registryMirrors },
      login: (creds) => images.transfers.login(creds),
      diskUsage: () =>
        diskUsage({
          images: () => images.queries.diskUsage(),
          containers: () => Promise.resolve(containers!.queries.list({ all: true, size: true, filters: {} })),
          volumes: () => volumes.usage(),
          imageUsers: (id) => containers!.queries.usersOfImage(id).length,
        }),
      dataRoot,
      version: VERSION,
      runtimes,
      containerCounts: () => containers!.queries.counts(),
      criSocket: config.cri?.socket,
      imageCount: () => images.records.count(),
      cgroup: { version: cgroupLayout === 'v2' ? '2' : '1', driver: 'cgroupfs' },
      rootless: config.rootless && { cgroups: runtimes.cgroupLimits },
      name: config.name,
      seccompProfile: seccomp.profile,
      userns: !!remap,
      storageDriver,
    });
    await images.init();
    await volumes.init();
    await containers.records.load();
    // Stale bridges, rules and namespaces of removed objects go before live ones are ensured.
    await networks.init({ beforeEnsure: (bridges) => plumbing.init({ networks: bridges, netnsPaths: containers!.queries.liveNetns() }) });
    await containers.reconcile();
    await system.init();

    const networkBackend = {
      list: (filters: Record<string, string[]>, opts: object) => networks.list(filters, opts),
      inspect: (ref: string, opts: object) => networks.inspect(ref, opts),
      create: (opts: Parameters<NetworkService['create']>[0]) => networks.create(opts),
      remove: (ref: string) => networks.remove(ref),
      prune: (filters: Record<string, string[]>) => networks.prune(filters),
      connect: (networkRef: string, containerRef: string, cfg: object | undefined) => containers!.networking.connectNetwork(networkRef, containerRef, cfg),
      disconnect: (networkRef: string, containerRef: string, force: boolean) => containers!.networking.disconnectNetwork(networkRef, containerRef, force),
    };
    const builds = new BuildService({ images: buildImages(images), containers: buildContainers(containers), log: log.child({ module: 'engine.build' }) });
    const api = apiRoutes({ system, containers: containerBackend(containers), images: imageBackend(images), builds, networks: networkBackend, volumes, execs: containers.execs, swarm: new NoSwarm(), plugins: new NoPlugins(), distribution: images.transfers });
    const app = buildApiServer({ log: log.child({ module: 'api' }), ...api, serverHeader: `Berth/${VERSION} (linux)` });
    const sockets = config.hosts.map(socketPath);
    for (const path of sockets) await claimSocket(path);
    await app.ready();
    // The CRI face (kubelet, crictl) on its own socket, over the same engine; up before the
    // Docker API answers, so a client that waits for /_ping finds both.
    let cri: Awaited<ReturnType<typeof startCriFace>> | undefined;
    if (config.cri) {
      await mkdir(dirname(config.cri.socket), { recursive: true, mode: 0o711 });
      await claimSocket(config.cri.socket);
      cri = await startCriFace({
        config: config.cri,
        version: VERSION,
        containers,
        images,
        execRoot: config.execRoot,
        imageRoot: join(dataRoot, 'image'),
        // runc as containerd's default: crun 1.8 gives bind mounts a peer group of their own,
        // which breaks kubelet's mount propagation (crun PR #2067).
        podRuntime: runtimes.infos().some((r) => r.name === 'runc' && r.available) ? 'runc' : undefined,
        log: log.child({ module: 'cri' }),
      });
      await chmod(config.cri.socket, 0o660);
    }
    // One HTTP server, fed by a listener per socket (an http.Server listens on one address only).
    const listeners: Server[] = [];
    for (const path of sockets) {
      const listener = createServer({ allowHalfOpen: true }, (socket) => app.server.emit('connection', socket));
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(path, () => {
          listener.off('error', reject);
          resolve();
        });
      });
      listeners.push(listener);
      await chmod(path, 0o660);
      if (socketGid !== undefined) await chown(path, 0, socketGid);
    }
    await writeFile(config.pidFile, `${process.pid}\n`);
    const unwatchLoop = watchEventLoopDelay();
    // The API thread outranks the burst of processes container starts run (host/thread-priority.ts).
    setThreadPriority(API_NICE);
    log.info({ hosts: config.hosts, criSocket: config.cri?.socket, dataRoot, defaultRuntime: runtimes.defaultName, version: VERSION }, 'berthd is ready');

    return {
      log,
      app,
      async stop() {
        unwatchLoop();
        await cri?.close();
        await Promise.all(listeners.map((l) => new Promise((resolve) => l.close(resolve))));
        app.server.closeAllConnections();
        await app.close();
        containers!.close();
        await plumbing.close();
        await store.close();
        const criSocket = config.cri ? [config.cri.socket] : [];
        await Promise.all([...sockets, ...criSocket].map((p) => rm(p, { force: true })).concat(rm(config.pidFile, { force: true })));
      },
    };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** The container routes' backend, bound role by role to the parts of the engine that do the work. */
function containerBackend(engine: ContainerEngine): ContainerBackend {
  const { records, queries, creation, lifecycle, removal, streams, archive, commit } = engine;
  return {
    get: (ref) => records.get(ref),
    rename: (ref, name) => records.rename(ref, name),
    list: (opts) => queries.list(opts),
    inspect: (ref, opts) => queries.inspect(ref, opts),
    stats: (ref, opts) => queries.stats(ref, opts),
    create: (opts) => creation.create(opts),
    remove: (ref, opts) => removal.remove(ref, opts),
    prune: (filters) => removal.prune(filters),
    start: (ref) => lifecycle.start(ref),
    stop: (ref, opts) => lifecycle.stop(ref, opts),
    restart: (ref, opts) => lifecycle.restart(ref, opts),
    kill: (ref, signal) => lifecycle.kill(ref, signal),
    pause: (ref) => lifecycle.pause(ref),
    unpause: (ref) => lifecycle.unpause(ref),
    top: (ref, psArgs) => lifecycle.top(ref, psArgs),
    update: (ref, changes) => lifecycle.update(ref, changes),
    wait: (ref, condition, signal) => lifecycle.wait(ref, condition, signal),
    logs: (ref, opts) => streams.logs(ref, opts),
    attach: (ref, opts) => streams.attach(ref, opts),
    resize: (ref, height, width) => streams.resize(ref, height, width),
    statPath: (ref, path) => archive.statPath(ref, path),
    getArchive: (ref, path) => archive.getArchive(ref, path),
    putArchive: (ref, body, opts) => archive.putArchive(ref, body, opts),
    export: (ref) => archive.export(ref),
    changes: (ref) => archive.changes(ref),
    commit: (ref, opts) => commit.commit(ref, opts),
  };
}

/** The image routes' backend, role by role on the image engine's parts (image-service.ts). */
function imageBackend(images: ImageService): ImageBackend {
  const { records, queries, removal, transfers, archives } = images;
  return {
    list: (filters, all) => queries.list(filters, all),
    inspect: (ref) => queries.inspect(ref),
    history: (ref) => queries.history(ref),
    tag: (source, repo, tag) => records.tag(source, repo, tag),
    remove: (ref, opts) => removal.remove(ref, opts),
    prune: (filters) => removal.prune(filters),
    pull: (ref, opts) => transfers.pull(ref, opts),
    push: (name, tag, opts) => transfers.push(name, tag, opts),
    load: (input, opts) => archives.load(input, opts),
    save: (names) => archives.save(names),
    importImage: (input, opts) => archives.importImage(input, opts),
    importUrl: (url, opts) => archives.importUrl(url, opts),
  };
}

/** What the builder makes images with. */
function buildImages(images: ImageService): BuildImages {
  const { records, transfers } = images;
  return {
    resolve: (ref) => records.resolve(ref),
    tag: (source, repo, tag) => records.tag(source, repo, tag),
    pull: (ref, opts) => transfers.pull(ref, opts),
    commit: (opts) => images.commit(opts),
    commitCachedStep: (opts) => images.commitCachedStep(opts),
    setParent: (id, parentId) => images.setParent(id, parentId),
    buildCache: (parentId, buildKey) => images.buildCache(parentId, buildKey),
    workDir: (prefix) => images.workDir(prefix),
    removeWorkDir: (dir) => images.removeWorkDir(dir),
  };
}

/** What the builder runs its steps with. */
function buildContainers(engine: ContainerEngine): BuildContainers {
  const { creation, lifecycle, removal, streams, archive, commit } = engine;
  return {
    create: (opts) => creation.create(opts),
    start: (id) => lifecycle.start(id),
    wait: (id, condition) => lifecycle.wait(id, condition),
    logs: (id, opts) => streams.logs(id, opts),
    remove: (id, opts) => removal.remove(id, opts),
    putArchive: (id, body, opts) => archive.putArchive(id, body, opts),
    getArchive: (id, path) => archive.getArchive(id, path),
    statPath: (id, path) => archive.statPath(id, path),
    commit: (id, opts) => commit.commit(id, opts),
  };
}

/** The host's own resolvers (not loopback ones), where the embedded DNS forwards by default. */
async function hostResolvers(): Promise<string[]> {
  return (await readHostResolvConf()).nameservers.filter((ns) => !ns.startsWith('127.') && ns !== '::1');
}

/** Removes a stale socket file; refuses when a live daemon still answers on it. */
async function claimSocket(path: string): Promise<void> {
  const alive = await socketAnswers(path);
  if (alive) throw new Error(`another daemon is already listening on ${path}`);
  await rm(path, { force: true });
}
