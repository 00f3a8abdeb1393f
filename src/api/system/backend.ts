/** What the system routes need from the engine. */
export interface SystemBackend {
  version(apiVersion: string, minApiVersion: string): object;
  info(): Promise<object>;
}
