/** Whether something accepts connections on a Unix socket: a live daemon, not a stale file. */
import { connect } from 'node:net';

export function socketAnswers(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
