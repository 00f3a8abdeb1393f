import type { Filters } from '../../engine/filter-args';

/** What the plugin routes need from the engine. */
export interface PluginBackend {
  list(filters: Filters): object[];
  /** Resolves a plugin by name or ID (throws when there is none). */
  get(name: string): never;
  privileges(): object[];
  /** Pull or create. */
  install(): never;
}
