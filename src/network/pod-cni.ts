/**
 * Pods' networks as kubelet's runtimes make them: the network namespace of a pod (made by the
 * runtime with its infra container) is pinned, then the CNI plugins of kubelet's configuration
 * (cni-conf-dir.ts) run against it as `eth0`, with the pod's identity in CNI_ARGS and its port
 * mappings as a capability argument. What ADD answered is kept beside the pinned namespace, so
 * the pod's address is known, and DEL can run, after a berthd restart.
 *
 *   <dir>/<podId>/netns        the pinned namespace (an nsfs bind mount)
 *   <dir>/<podId>/network.json the configuration used, the identity, the ports and ADD's result
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cni, type CniConfList, type CniPortMapping, type CniResult } from './cni';
import { readPodNetworkConf } from './cni-conf-dir';
import { NetnsTool } from './netns';

export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
}

export interface PodAddresses {
  ip: string;
  additional: string[];
}

interface Attachment {
  conflist: CniConfList;
  cniPath: string;
  pod: PodIdentity;
  ports: CniPortMapping[];
  result: CniResult;
}

export interface PodCniOptions {
  /** `<exec-root>/pods`: pinned namespaces and attachment records. */
  dir: string;
  confDir: string;
  binDirs: readonly string[];
}

const IFNAME = 'eth0';

export class PodCni {
  private readonly netns = new NetnsTool();
  private readonly attachments = new Map<string, Attachment>();
  private dirReady: Promise<void> | undefined;

  constructor(private readonly opts: PodCniOptions) {}

  /** Why pods cannot get a network yet (containerd's message), or undefined. */
  async notReady(): Promise<string | undefined> {
    const conf = await readPodNetworkConf(this.opts.confDir);
    return 'missing' in conf ? conf.missing : undefined;
  }

  private paths(podId: string) {
    if (!/^[0-9a-f]{64}$/.test(podId)) throw new Error(`invalid pod id ${podId}`);
    const dir = join(this.opts.dir, podId);
    return { dir, netns: join(dir, 'netns'), record: join(dir, 'network.json') };
  }

  /** Pins the namespace of the pod's infra process and runs ADD; answers the pod's addresses. */
  async attach(podId: string, infraPid: number, pod: PodIdentity, ports: CniPortMapping[]): Promise<PodAddresses> {
    const conf = await readPodNetworkConf(this.opts.confDir);
    if ('missing' in conf) throw new Error(`failed to setup network for sandbox "${podId}": ${conf.missing}`);
    const conflist = conf.conflist as CniConfList;
    const cniPath = this.binDirFor(conflist);
    await (this.dirReady ??= mkdir(this.opts.dir, { recursive: true, mode: 0o700 }).then(() => this.netns.ensurePrivateMountDir(this.opts.dir)));
    const p = this.paths(podId);
    await mkdir(p.dir, { recursive: true, mode: 0o700 });
    await this.netns.adopt(p.netns, `/proc/${infraPid}/ns/net`);
    const cni = new Cni({ cniPath });
    const invocation = { containerId: podId, netnsPath: p.netns, ifname: IFNAME, runtimeConfig: ports.length ? { portMappings: ports } : {}, args: podArgs(pod, podId) };
    try {
      const result = await cni.add(conflist, invocation);
      const attachment: Attachment = { conflist, cniPath, pod, ports, result };
      await writeFile(p.record, JSON.stringify(attachment));
      this.attachments.set(podId, attachment);
      return addressesOf(result);
    } catch (err) {
      await cni.del(conflist, invocation).catch(() => undefined);
      await this.netns.remove(p.netns).catch(() => undefined);
      await rm(p.dir, { recursive: true, force: true });
      throw new Error(`failed to setup network for sandbox "${podId}": ${(err as Error).message}`, { cause: err });
    }
  }

  /** DEL with what ADD used, then the pinned namespace goes; a pod never attached is a no-op. */
  async detach(podId: string): Promise<void> {
    const p = this.paths(podId);
    const attachment = await this.load(podId);
    if (attachment) {
      const cni = new Cni({ cniPath: attachment.cniPath });
      await cni.del(attachment.conflist, { containerId: podId, netnsPath: p.netns, ifname: IFNAME, runtimeConfig: attachment.ports.length ? { portMappings: attachment.ports } : {}, args: podArgs(attachment.pod, podId) });
    }
    this.attachments.delete(podId);
    await this.netns.remove(p.netns).catch(() => undefined);
    await rm(p.dir, { recursive: true, force: true });
  }

  /** The pod's addresses from ADD's result (also after a restart), or undefined when not attached. */
  async addresses(podId: string): Promise<PodAddresses | undefined> {
    const attachment = await this.load(podId);
    return attachment && addressesOf(attachment.result);
  }

  /** The pinned namespace of an attached pod (port-forward enters it). */
  netnsPath(podId: string): string | undefined {
    const p = this.paths(podId);
    return existsSync(p.netns) ? p.netns : undefined;
  }

  private async load(podId: string): Promise<Attachment | undefined> {
    const known = this.attachments.get(podId);
    if (known) return known;
    try {
      const attachment = JSON.parse(await readFile(this.paths(podId).record, 'utf8')) as Attachment;
      this.attachments.set(podId, attachment);
      return attachment;
    } catch {
      return undefined;
    }
  }

  /** The first plugin directory that has every plugin the list names (kubelet's search order). */
  private binDirFor(list: CniConfList): string {
    const types = list.plugins.map((p) => p.type);
    const dir = this.opts.binDirs.find((d) => types.every((t) => existsSync(join(d, t))));
    if (!dir) throw new Error(`CNI plugins ${types.join(', ')} not found in ${this.opts.binDirs.join(', ')}`);
    return dir;
  }
}

/** CNI_ARGS kubelet's runtimes send (containerd's and CRI-O's). */
function podArgs(pod: PodIdentity, podId: string): Array<[string, string]> {
  return [
    ['K8S_POD_NAMESPACE', pod.namespace],
    ['K8S_POD_NAME', pod.name],
    ['K8S_POD_INFRA_CONTAINER_ID', podId],
    ['K8S_POD_UID', pod.uid],
  ];
}

/** The pod's IPs: those on its eth0 (IPv4 first), without prefix lengths. */
function addressesOf(result: CniResult): PodAddresses {
  const ifaces = result.interfaces ?? [];
  const own = (result.ips ?? []).filter((ip) => ip.interface === undefined || ifaces[ip.interface]?.sandbox !== undefined || ifaces[ip.interface]?.name === IFNAME);
  const ips = own.map((ip) => ip.address.split('/')[0]).sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
  return { ip: ips[0] ?? '', additional: ips.slice(1) };
}
