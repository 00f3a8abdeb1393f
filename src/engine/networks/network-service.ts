/**
 * Owns Docker networks: their records (`network:<id>`), the predefined `bridge`, `host` and
 * `none`, name uniqueness, subnet allocation, and the bridges behind them (through the network
 * plumbing). Which containers are attached is the container service's knowledge; this service
 * asks for it through `endpointsOf`.
 *
 * Mutations (init, create, remove, prune) are serialized by one lock; reads use the in-memory
 * copy of the records.
 */
import type { Logger } from 'pino';
import type { BridgeNetworkSpec, NetworkPlumbing } from '../../network/types';
import { generateId, shortId } from '../ids';
import { ForbiddenError, InvalidParameterError, NotFoundError } from '../../errors';
import type { Store } from '../store/store';
import { KEY, PREFIX } from '../store/schema';
import { planBridgeNetwork } from './create-plan';
import { parseGoBool } from '../filter-args';
import type { EventSink } from '../events/event-log';
import { filterNetworks, parsePruneFilters, pruneLabelsMatch, type Filters } from './filters';
import { readHostNetworks, type HostNetwork } from './host-networks';
import { formatAddr, overlaps, parsePrefix, type Prefix } from '../../network/ipv4';
import { defaultBridgeOptions, defaultBridgeRecord, hostOrNoneRecord, parseBip } from './predefined';
import { allocateSubnet, defaultGateway } from './subnet-pool';
import {
  NETWORK_OPTION,
  isPredefined,
  type CreateNetworkOptions,
  type InspectNetworkOptions,
  type ListNetworksOptions,
  type NetworkEndpoint,
  type NetworkInspect,
  type NetworkRecord,
  type PruneNetworksResult,
} from './types';
import { networkView, rfc3339Nano } from './views';

/** `--bridge none`: dockerd's DisableBridge. */
export const DISABLED_BRIDGE = 'none';

export interface NetworkServiceDeps {
  events?: EventSink;
  store: Store;
  log: Logger;
  plumbing: Pick<NetworkPlumbing, 'ensureNetwork' | 'removeNetwork'>;
  defaults: {
    /** Device of the default `bridge` network (`--bridge`, default `berth0`); `none`: no default bridge network, as dockerd's `-b none`. */
    bridgeName: string;
    /** `--bip`: gateway address with prefix length, e.g. `172.29.0.1/16`. */
    bip?: string;
    /** `--iptables`: without it no network masquerades. */
    iptables: boolean;
  };
  /** Containers attached to a network (the container service knows them). */
  endpointsOf: (networkId: string) => NetworkEndpoint[];
  /**
   * Resolves once the containers that exited so far have given their endpoints back (their
   * release follows the exit, see containers/container-runs.ts): a removal must not see them as
   * attached.
   */
  exitsReleased?: () => Promise<void>;
  /** Subnets the host uses; reads /proc/net/route and /etc/resolv.conf unless given (tests). */
  hostNetworks?: () => Promise<HostNetwork[]>;
}

export interface InitNetworksOptions {
  /** Runs after the records are loaded and before any bridge is ensured (plumbing cleanup). */
  beforeEnsure?: (bridges: BridgeNetworkSpec[]) => Promise<void>;
}

/** Predefined networks first (bridge, host, none), then by creation time. */
function listOrder(a: NetworkRecord, b: NetworkRecord): number {
  const rank = (r: NetworkRecord) => (isPredefined(r.name) ? ['bridge', 'host', 'none'].indexOf(r.name) : 3);
  return rank(a) - rank(b) || Date.parse(a.created) - Date.parse(b.created) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export class NetworkService {
  private readonly networks = new Map<string, NetworkRecord>();
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: NetworkServiceDeps) {}

  /** Runs `fn` after every mutation queued before it. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Loads the records, creates or updates the predefined networks and ensures every bridge. */
  init(opts: InitNetworksOptions = {}): Promise<void> {
    return this.serialize(async () => {
      const stored = (await this.deps.store.list<NetworkRecord>(PREFIX.network)).map((e) => e.value);
      for (const rec of stored.sort(listOrder)) this.networks.set(rec.id, rec);
      if (this.deps.defaults.bridgeName === DISABLED_BRIDGE) await this.dropDefaultBridge();
      else await this.ensureDefaultBridge();
      for (const name of ['host', 'none'] as const) {
        if (!this.byName(name)) await this.save(hostOrNoneRecord(name, generateId(), rfc3339Nano(new Date())));
      }
      await opts.beforeEnsure?.(this.bridgeSpecs());
      for (const rec of this.bridgeRecords()) {
        try {
          await this.deps.plumbing.ensureNetwork(this.specOf(rec));
        } catch (err) {
          // Like dockerd: without its default bridge the daemon does not start; other networks wait.
          if (rec.name === 'bridge') throw new Error(`cannot set up the default bridge network: ${(err as Error).message}`, { cause: err });
          this.deps.log.error({ err, network: rec.id }, 'cannot set up network bridge');
        }
      }
    });
  }

  /** Creates the bridge first; the network exists (and is stored) only if that worked. */
  create(req: CreateNetworkOptions): Promise<{ Id: string; Warning: string }> {
    return this.serialize(async () => {
      const rec = planBridgeNetwork(req, {
        id: generateId(),
        created: rfc3339Nano(new Date()),
        existing: [...this.networks.values()],
        reserved: await this.reservedByHost(),
      });
      await this.deps.plumbing.ensureNetwork(this.specOf(rec));
      try {
        await this.save(rec);
      } catch (err) {
        await this.deps.plumbing.removeNetwork(this.specOf(rec)).catch((e) => this.deps.log.warn({ err: e, network: rec.id }, 'cannot remove bridge'));
        throw err;
      }
      this.deps.log.info({ network: rec.id, name: rec.name }, 'network created');
      this.deps.events?.publish('network', 'create', { ID: rec.id, Attributes: { name: rec.name, type: rec.driver } });
      return { Id: rec.id, Warning: '' };
    });
  }

  /** GET /networks/{id}. */
  inspect(ref: string, opts: InspectNetworkOptions = {}): NetworkInspect {
    if (opts.scope && opts.scope !== 'local') throw new NotFoundError(`network ${ref} not found`);
    const rec = this.find(ref, (n) => `${n} matches found based on ID prefix: network ${ref} is ambiguous`);
    return networkView(rec, this.deps.endpointsOf(rec.id));
  }

  /** GET /networks. */
  list(filters: Filters, opts: ListNetworksOptions = {}): NetworkInspect[] {
    const found = filterNetworks([...this.networks.values()], filters, (id) => this.deps.endpointsOf(id).length > 0);
    return found.map((rec) => networkView(rec, opts.withContainers ? this.deps.endpointsOf(rec.id) : undefined));
  }

  /** The record of a network by full ID, name or unique ID prefix (dockerd's lookup order). */
  get(ref: string): NetworkRecord {
    return this.find(ref, (n) => `network ${ref} is ambiguous (${n} matches found based on ID prefix)`);
  }

  async remove(ref: string): Promise<void> {
    this.get(ref);
    await this.deps.exitsReleased?.();
    return this.serialize(async () => this.removeRecord(this.get(ref)));
  }

  /** Removes unused user-defined networks; a network that cannot be removed is skipped. */
  async prune(filters: Filters): Promise<PruneNetworksResult> {
    const f = parsePruneFilters(filters, Date.now());
    await this.deps.exitsReleased?.();
    return this.serialize(async () => {
      const deleted: string[] = [];
      for (const rec of [...this.networks.values()]) {
        if (isPredefined(rec.name)) continue;
        if (f.until !== undefined && Date.parse(rec.created) > f.until) continue;
        if (!pruneLabelsMatch(f, rec.labels)) continue;
        if (this.deps.endpointsOf(rec.id).length) continue;
        try {
          await this.removeRecord(rec);
          deleted.push(rec.name);
        } catch (err) {
          this.deps.log.warn({ err, network: rec.id }, 'could not remove network');
        }
      }
      return { NetworksDeleted: deleted.length ? deleted : null };
    });
  }

  /** What the plumbing needs to build (or attach containers to) a bridge network. */
  specOf(rec: NetworkRecord): BridgeNetworkSpec {
    if (!rec.bridge) throw new Error(`network ${rec.name} is not a bridge network`);
    const masquerade = parseGoBool(rec.options[NETWORK_OPTION.enableIpMasquerade] ?? 'true') !== false;
    const mtu = Number(rec.options[NETWORK_OPTION.mtu] ?? 0);
    return {
      id: rec.id,
      name: rec.name,
      bridge: rec.bridge.device,
      subnet: rec.bridge.subnet,
      gateway: rec.bridge.gateway,
      ...(rec.bridge.ipRange ? { ipRange: rec.bridge.ipRange } : {}),
      internal: rec.internal,
      ipMasq: !rec.internal && this.deps.defaults.iptables && masquerade,
      dns: rec.name !== 'bridge',
      ...(mtu > 0 ? { mtu } : {}),
      ...(rec.enableIPv6 && rec.bridge.ipv6 ? { ipv6: { ...rec.bridge.ipv6 } } : {}),
    };
  }

  /** Every bridge network, for the plumbing's start-up cleanup. */
  bridgeSpecs(): BridgeNetworkSpec[] {
    return this.bridgeRecords().map((r) => this.specOf(r));
  }

  private bridgeRecords(): NetworkRecord[] {
    const all = [...this.networks.values()].filter((r) => r.bridge);
    return [...all.filter((r) => r.name === 'bridge'), ...all.filter((r) => r.name !== 'bridge')];
  }

  private byName(name: string): NetworkRecord | undefined {
    for (const r of this.networks.values()) if (r.name === name) return r;
    return undefined;
  }

  private find(ref: string, ambiguous: (n: number) => string): NetworkRecord {
    const exact = this.networks.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    const byPrefix = [...this.networks.values()].filter((r) => r.id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0];
    if (byPrefix.length > 1) throw new InvalidParameterError(ambiguous(byPrefix.length));
    throw new NotFoundError(`network ${ref} not found`);
  }

  private async save(rec: NetworkRecord): Promise<void> {
    await this.deps.store.put(KEY.network(rec.id), rec);
    this.networks.set(rec.id, rec);
  }

  private async removeRecord(rec: NetworkRecord): Promise<void> {
    if (isPredefined(rec.name)) throw new ForbiddenError(`${rec.name} is a pre-defined network and cannot be removed`);
    const endpoints = this.deps.endpointsOf(rec.id);
    if (endpoints.length) {
      const list = endpoints.map((e) => `name:${JSON.stringify(e.name.replace(/^\//, ''))} id:${JSON.stringify(shortId(e.endpointId))}`);
      throw new ForbiddenError(`error while removing network: network ${rec.name} has active endpoints (${list.join(', ')})`);
    }
    if (rec.bridge) {
      // As dockerd: a driver failure is logged and the network removed; the plumbing's start-up
      // cleanup takes away what is left of a bridge no record refers to.
      await this.deps.plumbing.removeNetwork(this.specOf(rec)).catch((err) => this.deps.log.warn({ err, network: rec.id }, 'cannot remove bridge'));
    }
    await this.deps.store.del(KEY.network(rec.id));
    this.networks.delete(rec.id);
    this.deps.log.info({ network: rec.id, name: rec.name }, 'network removed');
    this.deps.events?.publish('network', 'destroy', { ID: rec.id, Attributes: { name: rec.name, type: rec.driver } });
  }

  /** Host subnets on devices that are not Berth's own bridges. */
  private async reservedByHost(): Promise<Prefix[]> {
    const own = new Set([this.deps.defaults.bridgeName, ...[...this.networks.values()].flatMap((r) => (r.bridge ? [r.bridge.device] : []))]);
    const host = await (this.deps.hostNetworks ?? readHostNetworks)();
    return host.filter((h) => !h.iface || !own.has(h.iface)).flatMap((h) => parsePrefix(h.cidr) ?? []);
  }

  /**
   * `-b none`: no default bridge network. One a previous run made goes (its device with the
   * plumbing's start-up cleanup), unless a container still runs on it.
   */
  private async dropDefaultBridge(): Promise<void> {
    const existing = this.byName('bridge');
    if (!existing || this.deps.endpointsOf(existing.id).length) return;
    await this.deps.store.del(KEY.network(existing.id));
    this.networks.delete(existing.id);
    this.deps.log.info({ network: existing.id }, 'default bridge network disabled (--bridge none)');
  }

  /**
   * The default bridge: `--bip` when given; else the subnet it had, unless the host now uses it
   * (and no container is attached); else the first free default pool. Updated when `--bridge`
   * or `--bip` changed since the last start.
   */
  private async ensureDefaultBridge(): Promise<void> {
    const { bridgeName, bip } = this.deps.defaults;
    const existing = this.byName('bridge');
    const others = [...this.networks.values()].filter((r) => r.bridge && r.name !== 'bridge').map((r) => ({ rec: r, p: parsePrefix(r.bridge!.subnet)! }));
    let addressing: { subnet: string; gateway: string };
    if (bip) {
      addressing = parseBip(bip);
      const clash = others.find((o) => overlaps(o.p, parsePrefix(addressing.subnet)!));
      if (clash) throw new Error(`--bip ${bip} overlaps network ${clash.rec.name} (${clash.rec.bridge!.subnet})`);
    } else {
      const reserved = await this.reservedByHost();
      const taken = [...others.map((o) => o.p), ...reserved];
      const current = existing?.bridge && parsePrefix(existing.bridge.subnet);
      const free = current && !taken.some((t) => overlaps(t, current));
      if (existing?.bridge && (free || this.deps.endpointsOf(existing.id).length)) {
        if (!free) this.deps.log.warn({ network: existing.id, subnet: existing.bridge.subnet }, 'default bridge subnet overlaps a host network');
        addressing = { subnet: existing.bridge.subnet, gateway: existing.bridge.gateway };
      } else {
        const subnet = allocateSubnet(taken);
        addressing = { subnet, gateway: formatAddr(defaultGateway(parsePrefix(subnet)!)!) };
      }
    }
    const bridge = { device: bridgeName, ...addressing };
    if (!existing) {
      await this.save(defaultBridgeRecord(generateId(), rfc3339Nano(new Date()), bridge));
      return;
    }
    const b = existing.bridge;
    if (b && b.device === bridge.device && b.subnet === bridge.subnet && b.gateway === bridge.gateway) return;
    this.deps.log.info({ network: existing.id, bridge: bridge.device, subnet: bridge.subnet }, 'default bridge settings changed');
    await this.save({
      ...existing,
      bridge,
      ipam: { ...existing.ipam, config: [{ Subnet: bridge.subnet, Gateway: bridge.gateway }] },
      options: { ...existing.options, ...defaultBridgeOptions(bridge.device) },
    });
  }
}
