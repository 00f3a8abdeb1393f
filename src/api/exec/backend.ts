import type { ExecConfig, ExecInspect, ExecStartOptions } from '../../engine/containers/exec/exec-service';

/** What the exec routes need from the engine. */
export interface ExecBackend {
  create(containerRef: string, config: ExecConfig): string;
  inspect(id: string): ExecInspect;
  /** Attached, ends when the streams `getStreams` handed out close. */
  start(id: string, opts: ExecStartOptions): Promise<void>;
  resize(id: string, height: number, width: number): Promise<void>;
}
