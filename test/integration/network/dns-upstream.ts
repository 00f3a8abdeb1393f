import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * A tiny DNS server on 127.0.0.1 for tests: it answers the names it was given and records every
 * question, so a test can prove the embedded DNS forwarded a name without any traffic leaving
 * the machine. It lives in a child process (see dns-upstream-server.ts).
 */
export class TestUpstreamDns {
  readonly questions: string[] = [];
  private child?: ChildProcess;
  port = 0;

  constructor(private readonly answers: Record<string, string>) {}

  async start(): Promise<this> {
    const child = fork(join(__dirname, 'dns-upstream-server.js'), [JSON.stringify(this.answers)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    this.child = child;
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`test DNS server exited with ${code}`)));
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('port ')) {
            this.port = Number(line.slice(5));
            resolve();
          } else if (line.startsWith('q ')) this.questions.push(line.slice(2));
        }
      });
    });
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  close(): void {
    this.child?.kill();
  }
}
