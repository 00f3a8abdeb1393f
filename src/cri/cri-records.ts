/**
 * The CRI's objects among the engine's records (cri-labels.ts says how they are marked): the
 * lookup by kind and id that every call starts with, and the id/label part of the List filters.
 */
import type { ContainerEngine } from '../engine/containers/compose';
import type { ContainerRecord } from '../engine/containers/types';
import { kindOf, SANDBOX_ID_LABEL, type CriKind } from './cri-labels';

export function criRecords(containers: ContainerEngine, kind: CriKind): ContainerRecord[] {
  return containers.records.all().filter((c) => kindOf(c.config.Labels ?? undefined) === kind);
}

/** The record of kind `kind` with id `id` (a full id or a unique prefix), or undefined. */
export function findCriRecord(containers: ContainerEngine, kind: CriKind, id: string): ContainerRecord | undefined {
  if (!id) return undefined;
  const exact = containers.records.find(id);
  if (exact) return kindOf(exact.config.Labels ?? undefined) === kind ? exact : undefined;
  const matches = criRecords(containers, kind).filter((c) => c.id.startsWith(id));
  return matches.length === 1 ? matches[0] : undefined;
}

/** Every CRI container of the sandbox `sandboxId` (a full id). */
export function containersOf(containers: ContainerEngine, sandboxId: string): ContainerRecord[] {
  return criRecords(containers, 'container').filter((c) => c.config.Labels?.[SANDBOX_ID_LABEL] === sandboxId);
}

/** A List filter's id prefix and label selector (every pair must match); unset parts match all. */
export function matchesIdAndLabels(c: ContainerRecord, f: { id?: string; label_selector?: Record<string, string> } | null | undefined): boolean {
  if (f?.id && !c.id.startsWith(f.id)) return false;
  return Object.entries(f?.label_selector ?? {}).every(([k, v]) => c.config.Labels?.[k] === v);
}
