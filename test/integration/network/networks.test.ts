import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { freePort, startBerth, type Berth } from '../harness';
import { TestUpstreamDns } from './dns-upstream';
import { freeBip, freeSubnet } from './free-subnet';
import { httpGet, waitFor, waitForHttp, waitForListening } from '../wait';

const rand = () => randomBytes(3).toString('hex');

/** Host links and iptables rules that mention `word` (a bridge name or subnet of this test). */
const linksMentioning = (word: string) => execFileSync('ip', ['-o', 'link']).toString().split('\n').filter((l) => l.includes(word));
const rulesMentioning = (word: string) => execFileSync('iptables-save').toString().split('\n').filter((l) => l.startsWith('-A') && l.includes(word));

const WEB = ['sh', '-c', 'mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www'];
/** An HTTP GET from inside a container. busybox-static's `wget` crashes (Debian 12), `nc` works. */
const fetchFrom = (host: string, timeout = 5) => ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w ${timeout} ${host} 80 | tail -1`];

describe('networks: bridge, user networks, DNS, published ports', () => {
  let berth: Berth;
  let upstream: TestUpstreamDns;
  const bridge = `bt${rand()}`;
  const bip = freeBip(199);
  const userSubnet = freeSubnet(198);
  const userNet = `net${rand()}`;

  before(async () => {
    upstream = await new TestUpstreamDns({ 'upstream.example.test': '10.11.12.13' }).start();
    berth = await startBerth({ extraArgs: ['--bridge', bridge, '--bip', bip, '--dns-upstream', upstream.address] });
  });
  after(async () => {
    await berth?.cleanup();
    upstream?.close();
  });

  it('lists the predefined networks like dockerd', () => {
    const rows = berth.ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']).trim().split('\n').sort();
    assert.deepEqual(rows, ['bridge bridge local', 'host host local', 'none null local']);
    const [net] = JSON.parse(berth.ok(['network', 'inspect', 'bridge']));
    assert.equal(net.Options['com.docker.network.bridge.name'], bridge);
    assert.equal(net.IPAM.Config[0].Gateway, bip.split('/')[0]);
  });

  it('gives containers on the default bridge an address, a route and /etc/hosts', () => {
    const out = berth.ok(['run', '--rm', '--hostname', 'addr1', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; ip route | grep default; tail -1 /etc/hosts']);
    const prefix = bip.split('.').slice(0, 3).join('\\.');
    const m = new RegExp(`inet (${prefix}\\.\\d+)/24`).exec(out);
    assert.ok(m, out);
    assert.match(out, new RegExp(`default via ${bip.split('/')[0].replace(/\./g, '\\.')}`));
    assert.match(out, new RegExp(`${m[1].replace(/\./g, '\\.')}\taddr1\n$`));
  });

  it('lets containers on a user network reach each other by name, alias and short ID', async () => {
    const userBridge = `bu${rand()}`;
    berth.ok(['network', 'create', '--subnet', userSubnet, '--label', 'purpose=test', '-o', `com.docker.network.bridge.name=${userBridge}`, userNet]);
    assert.equal(linksMentioning(userBridge).length, 1, 'the network has its bridge');
    const [net] = JSON.parse(berth.ok(['network', 'inspect', userNet]));
    assert.equal(net.IPAM.Config[0].Subnet, userSubnet);
    assert.equal(net.Labels.purpose, 'test');
    const web = berth.ok(['run', '-d', '--name', 'web', '--network', userNet, '--network-alias', 'webalias', 'busybox', ...WEB]).trim();
    await waitForListening(berth, 'web', 80);
    for (const name of ['web', 'webalias', web.slice(0, 12)]) {
      const got = berth.ok(['run', '--rm', '--network', userNet, 'busybox', ...fetchFrom(name)]);
      assert.equal(got, `hello-from-${web.slice(0, 12)}\n`, `reached by ${name}`);
    }
    const ns = berth.ok(['run', '--rm', '--network', userNet, 'busybox', 'nslookup', 'web']);
    const [c] = JSON.parse(berth.ok(['inspect', 'web']));
    const ip = c.NetworkSettings.Networks[userNet].IPAddress;
    assert.ok(ip.startsWith(userSubnet.split('.').slice(0, 3).join('.')));
    assert.match(ns, new RegExp(ip.replace(/\./g, '\\.')));
    assert.match(berth.ok(['run', '--rm', '--network', userNet, 'busybox', 'cat', '/etc/resolv.conf']), /nameserver 127\.0\.0\.11/);
    const [inspected] = JSON.parse(berth.ok(['network', 'inspect', userNet]));
    assert.ok(inspected.Containers[web], 'network inspect lists the container');

    // Unknown names go to the configured upstream (a loopback server of this test).
    const up = berth.ok(['run', '--rm', '--network', userNet, 'busybox', 'nslookup', 'upstream.example.test']);
    assert.match(up, /10\.11\.12\.13/);
    // The question line reaches us from the server's child process after the answer did.
    await waitFor(() => upstream.questions.includes('upstream.example.test'), { what: 'the question at the upstream server' });

    // A removed container's name stops resolving.
    berth.ok(['rm', '-f', 'web']);
    const gone = berth.docker(['run', '--rm', '--network', userNet, 'busybox', 'nslookup', 'web']);
    assert.notEqual(gone.code, 0);

    berth.ok(['network', 'rm', userNet]);
    assert.deepEqual(linksMentioning(userBridge), [], 'no bridge or veth left');
    assert.deepEqual(rulesMentioning(userBridge), [], 'no iptables rules left for the bridge');
    assert.deepEqual(rulesMentioning(userSubnet), [], 'no iptables rules left for the subnet');
  });

  it('connect and disconnect change reachability of a running container', async () => {
    const net = `cd${rand()}`;
    berth.ok(['network', 'create', '--subnet', freeSubnet(197), net]);
    berth.ok(['run', '-d', '--name', 'lonely', 'busybox', ...WEB]);
    const miss = berth.docker(['run', '--rm', '--network', net, 'busybox', ...fetchFrom('lonely', 2)]);
    assert.doesNotMatch(miss.stdout, /hello-from-/);
    berth.ok(['network', 'connect', '--alias', 'found', net, 'lonely']);
    assert.match(berth.ok(['run', '--rm', '--network', net, 'busybox', ...fetchFrom('found')]), /^hello-from-/);
    berth.ok(['network', 'disconnect', net, 'lonely']);
    assert.doesNotMatch(berth.docker(['run', '--rm', '--network', net, 'busybox', ...fetchFrom('found', 2)]).stdout, /hello-from-/);
    berth.ok(['rm', '-f', 'lonely']);
    berth.ok(['network', 'rm', net]);
  });

  it('rejects overlapping subnets and removal of networks in use', () => {
    const net = `ov${rand()}`;
    const subnet = freeSubnet(196);
    berth.ok(['network', 'create', '--subnet', subnet, net]);
    const overlap = berth.docker(['network', 'create', '--subnet', subnet, `ov2${rand()}`]);
    assert.notEqual(overlap.code, 0);
    assert.match(overlap.stderr, /overlaps/i);
    berth.ok(['run', '-d', '--name', 'holder', '--network', net, 'busybox', 'sleep', '60']);
    const inUse = berth.docker(['network', 'rm', net]);
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /active endpoints/);
    berth.ok(['rm', '-f', 'holder']);
    berth.ok(['network', 'rm', net]);
    assert.match(berth.docker(['network', 'rm', 'bridge']).stderr, /pre-defined network and cannot be removed/);

    // As with dockerd, a container that exited holds no endpoint: the network goes at once,
    // although the exit's release runs after the CLI has seen the exit.
    berth.ok(['network', 'create', '--subnet', subnet, net]);
    assert.equal(berth.docker(['run', '--name', 'quitter', '--network', net, 'busybox', 'true']).code, 0);
    assert.equal(berth.docker(['stop', 'quitter']).code, 0, 'stopping a stopped container is fine');
    berth.ok(['network', 'rm', net]);
    assert.deepEqual(JSON.parse(berth.ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'quitter']))[net].EndpointID, '');
    berth.ok(['rm', 'quitter']);
  });

  it('publishes ports to loopback and keeps them across a daemon restart', async () => {
    const p1 = await freePort();
    const p2 = await freePort();
    berth.ok(['run', '-d', '--name', 'pub', '-p', `127.0.0.1:${p1}:80`, '-p', `${p2}:80`, '-p', '80', 'busybox', ...WEB]);
    assert.match(await waitForHttp(`http://127.0.0.1:${p1}/`), /^hello-from-/);
    assert.match(await waitForHttp(`http://127.0.0.1:${p2}/`), /^hello-from-/);
    const portOut = berth.ok(['port', 'pub', '80']);
    assert.match(portOut, new RegExp(`127\\.0\\.0\\.1:${p1}`));
    assert.match(portOut, new RegExp(`0\\.0\\.0\\.0:${p2}`));
    assert.match(berth.ok(['ps', '--format', '{{.Ports}}']), new RegExp(`127\\.0\\.0\\.1:${p1}->80/tcp`));

    const taken = berth.docker(['run', '-d', '--name', 'clash', '-p', `127.0.0.1:${p1}:80`, 'busybox', 'sleep', '60']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /port is already allocated|address already in use/);
    assert.equal(JSON.parse(berth.ok(['inspect', 'clash']))[0].State.Running, false, 'no half-started container');
    berth.ok(['rm', '-f', 'clash']);

    await berth.restart();
    assert.match(await waitForHttp(`http://127.0.0.1:${p1}/`), /^hello-from-/);
    berth.ok(['stop', '-t', '1', 'pub']);
    await assert.rejects(httpGet(`http://127.0.0.1:${p1}/`));
    berth.ok(['rm', 'pub']);
  });

  it('honours --ip, --mac-address and legacy --link', () => {
    const net = `ip${rand()}`;
    const prefix = freeSubnet(195).replace(/\.0\/24$/, '');
    berth.ok(['network', 'create', '--subnet', `${prefix}.0/24`, net]);
    berth.ok(['run', '-d', '--name', 'fixed', '--network', net, '--ip', `${prefix}.50`, '--mac-address', '02:42:0a:c3:00:32', 'busybox', 'sleep', '60']);
    const [c] = JSON.parse(berth.ok(['inspect', 'fixed']));
    assert.equal(c.NetworkSettings.Networks[net].IPAddress, `${prefix}.50`);
    assert.equal(c.NetworkSettings.Networks[net].MacAddress, '02:42:0a:c3:00:32');
    const clash = berth.docker(['run', '--rm', '--network', net, '--ip', `${prefix}.50`, 'busybox', 'true']);
    assert.notEqual(clash.code, 0, 'an address is never handed out twice');
    const onDefault = berth.docker(['run', '--rm', '--ip', '10.1.2.3', 'busybox', 'true']);
    assert.match(onDefault.stderr, /user specified IP address is supported on user defined networks only/);
    berth.ok(['rm', '-f', 'fixed']);
    berth.ok(['network', 'rm', net]);

    berth.ok(['run', '-d', '--name', 'linkeddb', 'busybox', 'sleep', '60']);
    const dbIp = JSON.parse(berth.ok(['inspect', 'linkeddb']))[0].NetworkSettings.IPAddress;
    const hosts = berth.ok(['run', '--rm', '--link', 'linkeddb:database', 'busybox', 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`${dbIp.replace(/\./g, '\\.')}\tdatabase `));
    berth.ok(['rm', '-f', 'linkeddb']);
  });

  it('publishes exposed ports with -P', async () => {
    berth.ok(['run', '-d', '--name', 'auto', '--expose', '80', '-P', 'busybox', ...WEB]);
    const mapped = berth.ok(['port', 'auto', '80/tcp']).trim().split('\n')[0];
    const port = Number(mapped.split(':').pop());
    assert.ok(port > 0, mapped);
    assert.match(await waitForHttp(`http://127.0.0.1:${port}/`), /^hello-from-/);
    berth.ok(['rm', '-f', 'auto']);

    // UDP publishing is covered by test/unit/network/ports.test.ts: the busybox fixture has no
    // UDP server (Debian's busybox nc lacks -u), so it cannot be driven end to end here.
  });

  it('filters network ls and prunes unused networks', () => {
    const keep = `keep${rand()}`;
    const drop = `drop${rand()}`;
    berth.ok(['network', 'create', '--subnet', freeSubnet(194), '--label', 'keep=yes', keep]);
    berth.ok(['network', 'create', '--subnet', freeSubnet(193), drop]);
    assert.equal(berth.ok(['network', 'ls', '--filter', 'label=keep=yes', '--format', '{{.Name}}']).trim(), keep);
    assert.deepEqual(berth.ok(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']).trim().split('\n').sort(), [drop, keep].sort());
    berth.ok(['run', '-d', '--name', 'user', '--network', keep, 'busybox', 'sleep', '60']);
    const pruned = berth.ok(['network', 'prune', '-f']);
    assert.match(pruned, new RegExp(drop));
    assert.doesNotMatch(pruned, new RegExp(keep));
    assert.deepEqual(berth.ok(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']).trim().split('\n'), [keep]);
    berth.ok(['rm', '-f', 'user']);
    berth.ok(['network', 'rm', keep]);
  });

  it('supports --network host, none and container:', () => {
    const hostName = execFileSync('hostname').toString().trim();
    assert.equal(berth.ok(['run', '--rm', '--network', 'host', 'busybox', 'hostname']).trim(), hostName);
    assert.equal(berth.ok(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']).trim(), 'lo');
    berth.ok(['run', '-d', '--name', 'netowner', 'busybox', 'sleep', '60']);
    const ownerIp = JSON.parse(berth.ok(['inspect', 'netowner']))[0].NetworkSettings.IPAddress;
    assert.ok(ownerIp);
    assert.match(berth.ok(['run', '--rm', '--network', 'container:netowner', 'busybox', 'ip', '-4', '-o', 'addr']), new RegExp(ownerIp.replace(/\./g, '\\.')));
    berth.ok(['rm', '-f', 'netowner']);
  });

  it('applies --hostname, --add-host, --dns, --dns-search, --dns-option', () => {
    const out = berth.ok(['run', '--rm', '--hostname', 'box1', '--add-host', 'db.local:10.1.1.1', '--dns', '10.2.2.2', '--dns-search', 'corp.test', '--dns-option', 'ndots:2', 'busybox', 'sh', '-c', 'hostname; cat /etc/hosts; cat /etc/resolv.conf']);
    assert.match(out, /^box1\n/);
    assert.match(out, /10\.1\.1\.1\tdb\.local/);
    assert.match(out, /nameserver 10\.2\.2\.2/);
    assert.match(out, /search corp\.test/);
    assert.match(out, /options ndots:2/);
  });
});

describe('networks with --iptables=false', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth({ extraArgs: ['--iptables=false'] });
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('creates no iptables rules and containers still reach each other', () => {
    const net = `ni${rand()}`;
    const bridge = `bn${rand()}`;
    const subnet = freeSubnet(192);
    berth.ok(['network', 'create', '--subnet', subnet, '-o', `com.docker.network.bridge.name=${bridge}`, net]);
    // Without Berth's rules, bridged traffic meets the host's FORWARD policy (DROP where dockerd runs
    // and br_netfilter is loaded): the test, not Berth, lets its own bridge forward.
    const hostRule = ['FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', 'berth-test', '-j', 'ACCEPT'];
    execFileSync('iptables', ['-w', '-I', ...hostRule]);
    try {
      berth.ok(['run', '-d', '--name', 'web', '--network', net, 'busybox', ...WEB]);
      assert.match(berth.ok(['run', '--rm', '--network', net, 'busybox', ...fetchFrom('web')]), /^hello-from-/);
      const berthRules = (word: string) => rulesMentioning(word).filter((l) => !l.includes('berth-test'));
      assert.deepEqual(berthRules(bridge), []);
      assert.deepEqual(berthRules(subnet), []);
    } finally {
      execFileSync('iptables', ['-w', '-D', ...hostRule]);
    }
    berth.ok(['rm', '-f', 'web']);
    berth.ok(['network', 'rm', net]);
  });
});

describe('networks with --bridge none', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth({ extraArgs: ['--bridge', 'none'] });
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('has no default bridge network: containers on it get a loopback only, user networks still work', () => {
    assert.deepEqual(berth.ok(['network', 'ls', '--format', '{{.Name}}']).trim().split('\n').sort(), ['host', 'none']);
    assert.deepEqual(linksMentioning(': none:'), [], 'no device named none');
    assert.equal(berth.ok(['run', '--rm', 'busybox', 'sh', '-c', "ip -o link | cut -d: -f2 | tr -d ' '"]), 'lo\n');
    const net = `bz${rand()}`;
    berth.ok(['network', 'create', '--subnet', freeSubnet(193), net]);
    assert.match(berth.ok(['run', '--rm', '--network', net, 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']), /inet 10\.193\./);
    berth.ok(['network', 'rm', net]);
  });
});
