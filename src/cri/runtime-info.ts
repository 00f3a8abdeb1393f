/**
 * Version, Status and UpdateRuntimeConfig: what kubelet asks before anything else. The node is
 * ready when the runtime answers (RuntimeReady) and a pod network is configured (NetworkReady,
 * from kubelet's CNI directory, as containerd reports it).
 */
import type { RuntimeHandlers } from './server';

export interface RuntimeInfoDeps {
  /** Berth's version. */
  version: string;
  /** Why pods cannot get a network yet, or undefined when they can. */
  networkNotReady(): Promise<string | undefined>;
  /**
   * kubelet's pod CIDR (UpdateRuntimeConfig). Only logged: the pod network's ranges come from
   * kubelet's CNI configuration, which Berth does not template (containerd's conf template is not
   * implemented).
   */
  setPodCidr(cidr: string): void;
}

/** The CRI API version kubelet expects in VersionResponse.version. */
const KUBE_RUNTIME_API_VERSION = '0.1.0';

export function runtimeInfoHandlers(deps: RuntimeInfoDeps): Pick<RuntimeHandlers, 'Version' | 'Status' | 'UpdateRuntimeConfig'> {
  return {
    Version: async (_req, version) => ({
      version: KUBE_RUNTIME_API_VERSION,
      runtime_name: 'berth',
      runtime_version: deps.version,
      runtime_api_version: version,
    }),
    Status: async () => {
      const notReady = await deps.networkNotReady();
      return {
        status: {
          conditions: [
            { type: 'RuntimeReady', status: true, reason: '', message: '' },
            notReady
              ? { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: `Network plugin returns error: ${notReady}` }
              : { type: 'NetworkReady', status: true, reason: '', message: '' },
          ],
        },
        info: {},
      };
    },
    UpdateRuntimeConfig: async (req) => {
      const cidr = req.runtime_config?.network_config?.pod_cidr;
      if (cidr) deps.setPodCidr(cidr);
      return {};
    },
  };
}
