/**
 * How a CRI object is kept in the container engine: a pod sandbox is its infra container, a
 * CRI container is an engine container, and what the CRI needs back (metadata, labels,
 * annotations, the config it was made from) rides on the record's labels, so the CRI view is
 * rebuilt from the store after a restart with nothing else to persist. Every key is here.
 */

import { OWNER_NAMESPACE_LABEL } from '../engine/containers/owner-namespace';

/** Marks a Kubernetes-owned container (containerd's `k8s.io` namespace); Docker listings keep them apart. */
export const NAMESPACE_LABEL = OWNER_NAMESPACE_LABEL;
export const K8S_NAMESPACE = 'k8s.io';
/** `sandbox` (an infra container) or `container`. */
export const KIND_LABEL = 'io.berth.cri.kind';
/** A CRI container's pod sandbox id. */
export const SANDBOX_ID_LABEL = 'io.berth.cri.sandbox-id';
/** JSON of the CRI metadata (name, uid, namespace, attempt). */
export const METADATA_LABEL = 'io.berth.cri.metadata';
/** JSON of the CRI annotations (the CRI labels are the record's own labels, minus these keys). */
export const ANNOTATIONS_LABEL = 'io.berth.cri.annotations';
/** The RunPodSandbox runtime handler (a Berth runtime name), when one was asked for. */
export const RUNTIME_HANDLER_LABEL = 'io.berth.cri.runtime-handler';
/** JSON of the request's config, for status answers and what the engine has no field for. */
export const CONFIG_LABEL = 'io.berth.cri.config';

export type CriKind = 'sandbox' | 'container';

const OWN_KEYS = new Set([NAMESPACE_LABEL, KIND_LABEL, SANDBOX_ID_LABEL, METADATA_LABEL, ANNOTATIONS_LABEL, CONFIG_LABEL, RUNTIME_HANDLER_LABEL]);

/** The engine labels of a CRI object. */
export function criLabels(kind: CriKind, o: { metadata: unknown; labels: Record<string, string>; annotations: Record<string, string>; config: unknown; sandboxId?: string }): Record<string, string> {
  return {
    ...o.labels,
    [NAMESPACE_LABEL]: K8S_NAMESPACE,
    [KIND_LABEL]: kind,
    ...(o.sandboxId ? { [SANDBOX_ID_LABEL]: o.sandboxId } : {}),
    [METADATA_LABEL]: JSON.stringify(o.metadata),
    [ANNOTATIONS_LABEL]: JSON.stringify(o.annotations),
    [CONFIG_LABEL]: JSON.stringify(o.config),
  };
}

/** The CRI labels of a record: its labels without Berth's own keys. */
export function userLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !OWN_KEYS.has(k)));
}

export function kindOf(labels: Record<string, string> | undefined): CriKind | undefined {
  const kind = labels?.[KIND_LABEL];
  return kind === 'sandbox' || kind === 'container' ? kind : undefined;
}

export function parseLabel<T>(labels: Record<string, string>, key: string, fallback: T): T {
  try {
    return labels[key] ? (JSON.parse(labels[key]) as T) : fallback;
  } catch {
    return fallback;
  }
}
