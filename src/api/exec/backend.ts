import type { ExecConfig, ExecStartOptions } from '../../engine/containers/exec/exec-service';

/** What the exec routes need from the engine. */
export interface ExecBackend {
  create(containerRef: string, config: ExecConfig): string;
  inspect(id: string): object;
  start(id: string, opts: ExecStartOptions): Promise<void>;
  resize(id: string, height: number, width: number): Promise<void>;
}
