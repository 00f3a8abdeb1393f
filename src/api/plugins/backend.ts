import type { Filters } from '../../engine/filter-args';

/** What the plugin routes need from the engine (which has no managed plugins: lists are empty). */
export interface PluginBackend {
  list(filters: Filters): never[];
  /** Resolves a plugin by name or ID (throws when there is none). */
  get(name: string): never;
  privileges(): never[];
  /** Pull or create. */
  install(): never;
}
