/**
 * Managed plugins as a daemon with none installed answers for them: an empty list, "not found"
 * for any name (`[moby] plugin/store.go` words), and no way to install one — Berth cannot run
 * managed plugins, so pull and create are refused with dockerd's text for platforms without
 * plugin support (`[moby] daemon/pkg/plugin/backend_unsupported.go`).
 */
import { type Filters } from '../filter-args';
import { InvalidParameterError, NotFoundError, NotImplementedError } from '../../errors';

const ACCEPTED_FILTERS = new Set(['enabled', 'capability']);

export const PLUGINS_NOT_SUPPORTED = 'plugins are not supported on this platform';

export class NoPlugins {
  /** GET /plugins: validates the filters as dockerd does, then lists nothing (none is installed). */
  list(filters: Filters): never[] {
    for (const key of Object.keys(filters)) {
      if (!ACCEPTED_FILTERS.has(key)) throw new InvalidParameterError(`Invalid filter '${key}'`);
    }
    const enabled = filters.enabled ?? [];
    if (enabled.some((v) => v !== 'true' && v !== 'false')) throw new InvalidParameterError(`Invalid filter 'enabled=[${enabled.join(' ')}]'`);
    return [];
  }

  /** Inspect, enable, disable, remove, push, set, upgrade: the name resolves to no plugin. */
  get(name: string): never {
    throw new NotFoundError(`plugin "${name}" not found`);
  }

  /** GET /plugins/privileges: a plugin Berth cannot install asks for nothing. */
  privileges(): never[] {
    return [];
  }

  /** POST /plugins/pull, POST /plugins/create. */
  install(): never {
    throw new NotImplementedError(PLUGINS_NOT_SUPPORTED);
  }
}
