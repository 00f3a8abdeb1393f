import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

/**
 * Child-process half of TestUpstreamDns: a DNS server on 127.0.0.1 answering the names given as
 * JSON in argv[2]. It prints `port N` once, then `q <name>` per question. It runs in its own
 * process because the tests drive the docker CLI synchronously, which blocks their event loop.
 */
const answers = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const socket = createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  let query: dnsPacket.Packet;
  try {
    query = dnsPacket.decode(msg);
  } catch {
    return;
  }
  const q = query.questions?.[0];
  if (!q) return;
  process.stdout.write(`q ${q.name}\n`);
  const ip = answers[q.name.toLowerCase()];
  const reply = dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (ip ? 0 : 3),
    questions: query.questions,
    answers: ip && q.type === 'A' ? [{ type: 'A', name: q.name, ttl: 60, class: 'IN', data: ip }] : [],
  });
  socket.send(reply, rinfo.port, rinfo.address);
});
socket.bind(0, '127.0.0.1', () => process.stdout.write(`port ${socket.address().port}\n`));
process.on('disconnect', () => process.exit(0));
