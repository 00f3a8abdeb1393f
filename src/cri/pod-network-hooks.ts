/**
 * The sandbox's side of the pod network (network/pod-cni.ts): a pod without host networking is
 * refused before anything is made while kubelet's CNI directory is empty (containerd's message),
 * attached once its infra container runs, detached at stop and remove.
 */
import { UnavailableError } from '../errors';
import type { PodCni } from '../network/pod-cni';
import type { CniPortMapping } from '../network/cni';
import type { PodNetworkHooks } from './sandboxes';
import { sandboxConfigOf } from './sandboxes';
import type { PodSandboxConfig__Output } from './generated/runtime/v1/PodSandboxConfig';

const hostNetwork = (config: PodSandboxConfig__Output) => config.linux?.security_context?.namespace_options?.network === 'NODE';

/** kubelet's port mappings as the portmap plugin takes them; containerd skips those without a host port. */
export function portMappingsOf(config: PodSandboxConfig__Output): CniPortMapping[] {
  return (config.port_mappings ?? [])
    .filter((m) => m.host_port > 0)
    .map((m) => ({
      hostPort: m.host_port,
      containerPort: m.container_port,
      protocol: m.protocol === 'UDP' ? 'udp' : 'tcp',
      ...(m.host_ip ? { hostIP: m.host_ip } : {}),
    }));
}

export function podNetworkHooks(cni: PodCni): PodNetworkHooks {
  return {
    prepare: async (_id, config) => {
      if (hostNetwork(config)) return {};
      const why = await cni.notReady();
      if (why) throw new UnavailableError(`failed to setup network for sandbox: ${why}`);
      return {};
    },
    attach: async (infra, config) => {
      if (hostNetwork(config)) return;
      const m = config.metadata;
      await cni.attach(infra.id, infra.state.Pid, { name: m?.name ?? '', namespace: m?.namespace ?? '', uid: m?.uid ?? '' }, portMappingsOf(config));
    },
    detach: (infra) => cni.detach(infra.id),
    addresses: async (infra) => (hostNetwork(sandboxConfigOf(infra)) ? undefined : cni.addresses(infra.id)),
  };
}
