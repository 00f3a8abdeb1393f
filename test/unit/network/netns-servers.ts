/**
 * Tiny servers the network tests run inside a network namespace (`nsenter ... node
 * netns-servers.js MODE PORT [TEXT]`); each prints `ready` once listening.
 *   http PORT TEXT   — answers every HTTP request with TEXT
 *   halfclose PORT   — reads until the client half-closes, then answers `got <bytes>` and closes
 *   udpecho PORT     — echoes every datagram
 * and one client:
 *   dnsquery SERVER NAME TYPE udp|tcp — prints `{"rcode", "answers"}` of the reply as JSON
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';

function dnsQuery(server: string, name: string, type: dnsPacket.RecordType, proto: string): void {
  const query = dnsPacket.encode({ type: 'query', id: 777, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
  const print = (buf: Buffer) => {
    const p = dnsPacket.decode(buf) as dnsPacket.DecodedPacket & { rcode: string };
    process.stdout.write(JSON.stringify({ rcode: p.rcode, answers: (p.answers ?? []).map((a) => (a as { data: unknown }).data) }));
    process.exit(0);
  };
  setTimeout(() => {
    process.stderr.write('timeout\n');
    process.exit(3);
  }, 5000);
  if (proto === 'tcp') {
    const s = net.connect(53, server, () => {
      const framed = Buffer.alloc(2 + query.length);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      s.write(framed);
    });
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) print(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  } else {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg) => print(msg));
    sock.send(query, 53, server);
  }
}

function main(): void {
  const [mode, portText, text = ''] = process.argv.slice(2);
  const port = Number(portText);
  const ready = () => process.stdout.write('ready\n');
  if (mode === 'http') {
    http.createServer((_req, res) => res.end(text)).listen(port, '0.0.0.0', ready);
  } else if (mode === 'halfclose') {
    net
      .createServer({ allowHalfOpen: true }, (s) => {
        let n = 0;
        s.on('data', (d: Buffer) => (n += d.length));
        s.on('end', () => s.end(`got ${n}`));
      })
      .listen(port, '0.0.0.0', ready);
  } else if (mode === 'udpecho') {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, r) => sock.send(msg, r.port, r.address));
    sock.bind(port, '0.0.0.0', ready);
  } else if (mode === 'dnsquery') {
    dnsQuery(portText, text, process.argv[5] as dnsPacket.RecordType, process.argv[6]);
  } else {
    process.stderr.write(`unknown mode ${mode}\n`);
    process.exit(2);
  }
}

// Also loaded by `node --test` (it runs every file under test/): do nothing without a mode.
if (require.main === module && process.argv[2]) main();
