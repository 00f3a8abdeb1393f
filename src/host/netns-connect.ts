/**
 * The adapter for berth-netns-connect (native/netns-connect.c, built beside this module's
 * compiled copy): joins a byte stream to a TCP port on the loopback of another network
 * namespace (a pod's), for the CRI's PortForward. One helper process per connection; the
 * stream's end half-closes the connection, and the connection's end ends the stream.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

export const NETNS_CONNECT_PATH = join(__dirname, 'berth-netns-connect');

/**
 * Relays `peer` to 127.0.0.1:`port` (or [::1]) inside the network namespace at `netnsPath`.
 * Resolves when the connection ended; rejects with the helper's message when it could not be
 * made. `peer` is ended when the connection's answer is over; destroying `peer` cuts it off.
 */
export function connectInNetns(netnsPath: string, port: number, peer: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(NETNS_CONNECT_PATH, [netnsPath, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.stdin.on('error', () => undefined);
    child.stdout.pipe(peer);
    peer.pipe(child.stdin);
    const cutOff = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    peer.once('close', cutOff);
    child.once('error', (err) => {
      peer.off('close', cutOff);
      reject(new Error(`running ${NETNS_CONNECT_PATH}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      peer.off('close', cutOff);
      peer.unpipe(child.stdin);
      if (code === 0 || signal === 'SIGKILL') return resolve();
      const message = Buffer.concat(stderr).toString('utf8').trim();
      reject(new Error(message || `berth-netns-connect exited with ${code ?? signal}`));
    });
  });
}
