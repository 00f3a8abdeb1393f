import type { EventMessage, SubscribeOptions } from '../../engine/events/event-log';

/** What the system routes need from the engine. */
export interface SystemBackend {
  version(apiVersion: string, minApiVersion: string): object;
  info(): Promise<object>;
  df(): Promise<object>;
  login(creds: { username?: string; password?: string; serveraddress?: string; identitytoken?: string; registrytoken?: string }): Promise<object>;
  /** Validates the filters (400) before the stream starts. */
  events(filters: Record<string, string[]>, opts: Omit<SubscribeOptions, 'filter'>): AsyncIterable<EventMessage>;
}
