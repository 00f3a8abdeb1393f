import type { EventMessage, SubscribeOptions } from '../../engine/events/event-log';
import type { Filters } from '../../engine/filter-args';
import type { DiskUsage } from '../../engine/system/disk-usage';
import type { LoginResult, SystemInfo, SystemVersion } from '../../engine/system/system-service';

/** What the system routes need from the engine. */
export interface SystemBackend {
  version(apiVersion: string, minApiVersion: string): SystemVersion;
  info(): Promise<SystemInfo>;
  df(): Promise<DiskUsage>;
  login(creds: { username?: string; password?: string; serveraddress?: string; identitytoken?: string; registrytoken?: string }): Promise<LoginResult>;
  /** Validates the filters (400) before the stream starts; the stream ends when `signal` aborts. */
  events(filters: Filters, opts: Omit<SubscribeOptions, 'filter'> & { signal: AbortSignal }): AsyncIterable<EventMessage>;
}
