import type { DistributionInspect } from '../../engine/images/distribution-inspect';
import type { RegistryCredentials } from '../../engine/registry/registry-client';

/** What the distribution route needs from the engine. */
export interface DistributionBackend {
  distributionInspect(name: string, opts: { creds?: RegistryCredentials }): Promise<DistributionInspect>;
}
