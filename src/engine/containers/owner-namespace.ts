/**
 * Containers owned by another client of the engine than the Docker API's user, kept apart as
 * containerd keeps its `k8s.io` namespace apart: Kubernetes' pods (the CRI face) carry the label
 * `io.berth.namespace=<name>`. They are left out of `docker ps`, prune and the user's counts,
 * and listed when the user names the label in a filter; by id or name they answer as any other.
 */
import type { ContainerRecord } from './types';

export const OWNER_NAMESPACE_LABEL = 'io.berth.namespace';

/** The record's owner namespace, or undefined for the user's own containers. */
export function ownerNamespace(c: ContainerRecord): string | undefined {
  return c.config.Labels?.[OWNER_NAMESPACE_LABEL] || undefined;
}

/** Whether a `label` filter asks for namespaced containers (`io.berth.namespace` or `io.berth.namespace=x`). */
export function filterNamesNamespace(labelFilters: readonly string[] | undefined): boolean {
  return (labelFilters ?? []).some((f) => f === OWNER_NAMESPACE_LABEL || f.startsWith(`${OWNER_NAMESPACE_LABEL}=`));
}
