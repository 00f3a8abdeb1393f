import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import { startBerth, type Berth } from '../harness';

/**
 * A corpus of malformed and hostile requests, sent over raw HTTP: none may get a 500, every
 * error carries a message, and afterwards every reader (ps, inspect, images, system df, network
 * and volume lists) still works, so nothing that was stored can break a client.
 */

interface Hostile {
  what: string;
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** The exact status when it is known; otherwise anything but a 500. */
  status?: number;
  /** Words the error message must contain. */
  message?: string | RegExp;
}

const MB = 1024 * 1024;
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const createBody = (extra: Record<string, unknown>, hostConfig?: Record<string, unknown>) =>
  JSON.stringify({ Image: 'busybox', Cmd: ['true'], ...extra, ...(hostConfig && { HostConfig: hostConfig }) });
const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * Like the harness's `api`, but a server may answer before it has read the whole body (413) and
 * close the connection. node's http client then loses the answer when a later write fails with
 * EPIPE, so the request is written by hand over a raw socket: the body goes in 256 KiB pieces,
 * each after the previous one was taken, and writing stops as soon as any answer has arrived.
 * What the server said is read from everything it sent before it closed.
 */
function send(socketPath: string, c: Hostile): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = c.body === undefined ? undefined : Buffer.from(c.body);
    const headers: Record<string, string> = {
      Host: 'localhost',
      Connection: 'close',
      ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {}),
      ...(c.headers ?? {}),
    };
    const head = `${c.method} /v1.51${c.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const received: Buffer[] = [];
    const sock = connect(socketPath);
    let writeError: Error | undefined;
    sock.on('data', (d) => received.push(d));
    sock.on('error', (err) => (writeError = err));
    sock.on('close', () => {
      const raw = Buffer.concat(received).toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      if (!status) return reject(new Error(`${c.what}: no answer${writeError ? ` (${writeError.message})` : ''}`));
      const split = raw.indexOf('\r\n\r\n');
      let payload = raw.slice(split + 4);
      if (/\r\ntransfer-encoding: chunked\r\n/i.test(raw.slice(0, split))) payload = unchunk(payload);
      resolve({ status: Number(status[1]), body: Buffer.from(payload, 'latin1').toString('utf8') });
    });
    const writeFrom = (offset: number): void => {
      if (received.length > 0 || sock.destroyed) return;
      if (body === undefined || offset >= body.length) return;
      const piece = body.subarray(offset, offset + 256 * 1024);
      sock.write(piece, (err) => (err ? undefined : writeFrom(offset + piece.length)));
    };
    sock.write(head, (err) => (err ? undefined : writeFrom(0)));
  });
}

/** Decodes an HTTP/1.1 chunked body. */
function unchunk(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    const eol = s.indexOf('\r\n', i);
    const size = parseInt(s.slice(i, eol), 16);
    if (!(size > 0)) break;
    out += s.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
  return out;
}

function corpus(container: string): Hostile[] {
  const out: Hostile[] = [];
  const create = (what: string, body: string, status?: number, message?: string | RegExp, query = '') =>
    out.push({ what, method: 'POST', path: `/containers/create${query}`, body, status, message });

  // Wrong JSON types, field by field (Go's words, 400).
  const wrongTypes: Array<[string, unknown, string]> = [
    ['Image', 5, 'ContainerConfigWrapper.Image of type string'],
    ['Cmd', 5, 'ContainerConfigWrapper.Cmd of type string'],
    ['Cmd', { a: 1 }, 'ContainerConfigWrapper.Cmd of type string'],
    ['Entrypoint', [1], 'ContainerConfigWrapper.Entrypoint of type string'],
    ['Env', 'A=1', 'ContainerConfigWrapper.Env of type []string'],
    ['Env', [{}], 'ContainerConfigWrapper.Env of type string'],
    ['Labels', ['a'], 'ContainerConfigWrapper.Labels of type map[string]string'],
    ['Labels', { a: 1 }, 'ContainerConfigWrapper.Labels of type string'],
    ['Tty', 'yes', 'ContainerConfigWrapper.Tty of type bool'],
    ['OpenStdin', 1, 'ContainerConfigWrapper.OpenStdin of type bool'],
    ['ExposedPorts', ['80/tcp'], 'ContainerConfigWrapper.ExposedPorts of type nat.PortSet'],
    ['ExposedPorts', { '80/tcp': 1 }, 'ContainerConfigWrapper.ExposedPorts of type struct {}'],
    ['Volumes', { '/x': 'y' }, 'ContainerConfigWrapper.Volumes of type struct {}'],
    ['StopTimeout', '10', 'ContainerConfigWrapper.StopTimeout of type int'],
    ['Healthcheck', 'CMD true', 'ContainerConfigWrapper.Healthcheck of type container.HealthConfig'],
    ['Healthcheck', { Interval: '1s' }, 'HealthConfig.Healthcheck.Interval of type time.Duration'],
    ['HostConfig', 'x', 'ContainerConfigWrapper.HostConfig of type container.HostConfig'],
    ['NetworkingConfig', [], 'ContainerConfigWrapper.NetworkingConfig of type network.NetworkingConfig'],
    ['User', false, 'ContainerConfigWrapper.User of type string'],
    ['WorkingDir', {}, 'ContainerConfigWrapper.WorkingDir of type string'],
  ];
  for (const [field, value, words] of wrongTypes) create(`${field}: ${JSON.stringify(value)}`, createBody({ [field]: value }), 400, words);
  const wrongHostTypes: Array<[string, unknown, string]> = [
    ['Memory', 'lots', 'HostConfig.HostConfig.Memory of type int64'],
    ['Memory', true, 'HostConfig.HostConfig.Memory of type int64'],
    ['CpuShares', '512', 'HostConfig.HostConfig.CpuShares of type int64'],
    ['Privileged', 'true', 'HostConfig.HostConfig.Privileged of type bool'],
    ['Binds', '/:/host', 'HostConfig.HostConfig.Binds of type []string'],
    ['PortBindings', [], 'HostConfig.HostConfig.PortBindings of type nat.PortMap'],
    ['PortBindings', { '80/tcp': [{ HostPort: 8080 }] }, 'PortBinding.HostConfig.PortBindings.HostPort of type string'],
    ['RestartPolicy', 'always', 'HostConfig.HostConfig.RestartPolicy of type container.RestartPolicy'],
    ['RestartPolicy', { Name: 'on-failure', MaximumRetryCount: '3' }, 'RestartPolicy.HostConfig.RestartPolicy.MaximumRetryCount of type int'],
    ['Mounts', [{ Type: 1 }], 'Mount.HostConfig.Mounts.Type of type mount.Type'],
    ['Ulimits', [{ Name: 'nofile', Soft: '1' }], 'Ulimit.HostConfig.Ulimits.Soft of type int64'],
    ['LogConfig', { Type: 'json-file', Config: { 'max-size': 10 } }, 'LogConfig.HostConfig.LogConfig.Config of type string'],
    ['Devices', ['/dev/null'], 'HostConfig.HostConfig.Devices of type container.DeviceMapping'],
    ['Sysctls', { 'net.ipv4.ip_forward': 1 }, 'HostConfig.HostConfig.Sysctls of type string'],
    ['Tmpfs', ['/run'], 'HostConfig.HostConfig.Tmpfs of type map[string]string'],
    ['ConsoleSize', [-1, 80], 'HostConfig.HostConfig.ConsoleSize of type uint'],
  ];
  for (const [field, value, words] of wrongHostTypes) create(`HostConfig.${field}: ${JSON.stringify(value)}`, createBody({}, { [field]: value }), 400, words);

  // Numbers Go refuses, and ranges dockerd checks (Berth refuses at create, never at start).
  const numbers: Array<[string, string, string]> = [
    ['Memory', '1e23', 'number 1e23 into Go struct field HostConfig.HostConfig.Memory of type int64'],
    ['Memory', '1.5', 'number 1.5 into'],
    ['Memory', '9223372036854775808', 'number 9223372036854775808'],
    ['Memory', '-9223372036854775809', 'number -9223372036854775809'],
    ['Memory', '1e400', 'number 1e400'],
    ['CpuShares', '1e3', 'number 1e3'],
    ['BlkioWeight', '-1', 'number -1 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16'],
    ['BlkioWeight', '70000', 'number 70000'],
    ['Memory', '100', 'Minimum memory limit allowed is 6MB'],
    ['Memory', '-5', 'Minimum memory limit allowed is 6MB'],
    ['MemoryReservation', '5', 'Minimum memory reservation allowed is 6MB'],
    ['CpuShares', '-1', 'invalid CPU shares (-1): value must be a positive integer'],
    ['CpuPeriod', '-5', 'CPU cfs period can not be less than 1ms'],
    ['CpuPeriod', '5000000', 'CPU cfs period can not be less than 1ms'],
    ['CpuQuota', '5', 'CPU cfs quota can not be less than 1ms'],
    ['CpuQuota', '-7', 'CPU cfs quota can not be less than 1ms'],
    ['NanoCpus', '-1', 'Range of CPUs is from 0.01'],
    ['ShmSize', '-1', 'SHM size can not be less than 0'],
    ['OomScoreAdj', '5000', 'Invalid value 5000, range for oom score adj is [-1000, 1000]'],
    ['MemorySwappiness', '101', 'Invalid value: 101, valid memory swappiness range is 0-100'],
    ['BlkioWeight', '5', 'Range of blkio weight is from 10 to 1000'],
  ];
  for (const [field, literal, words] of numbers) {
    create(`HostConfig.${field}: ${literal}`, `{"Image":"busybox","HostConfig":{"${field}":${literal}}}`, 400, words);
  }
  create('StopTimeout: 1e20', '{"Image":"busybox","StopTimeout":1e20}', 400, 'number 1e20');

  // Ports: keys and host ports no client could read back.
  for (const key of ['99999/tcp', '-1/tcp', '0/tcp', '65536', '80/xyz', 'abc', '', '80/tcp/udp', '8O/tcp']) {
    create(`ExposedPorts ${JSON.stringify(key)}`, createBody({ ExposedPorts: { [key]: {} } }), 400, 'invalid port specification');
    create(`PortBindings ${JSON.stringify(key)}`, createBody({}, { PortBindings: { [key]: [{ HostPort: '8080' }] } }), 400, 'invalid port specification');
  }
  for (const hostPort of ['99999', '-1', 'abc', '80/tcp', '1e3']) {
    create(`HostPort ${hostPort}`, createBody({}, { PortBindings: { '80/tcp': [{ HostPort: hostPort }] } }), 400, 'invalid port specification');
  }

  // Nesting.
  create('5,000-deep array', deepArray(5000), 400, 'invalid JSON: exceeded max depth');
  create('5,000-deep object', deepObject(5000), 400, 'invalid JSON: exceeded max depth');
  create('5,000-deep under an unknown key', `{"Image":"busybox","X":${deepArray(5000)}}`, 400, 'exceeded max depth');
  create('100,000-deep array', deepArray(100_000), 400, 'exceeded max depth');
  for (const [path, method] of [
    [`/containers/${container}/exec`, 'POST'],
    ['/networks/create', 'POST'],
    ['/volumes/create', 'POST'],
    [`/containers/${container}/update`, 'POST'],
    ['/commit?container=' + container, 'POST'],
    ['/auth', 'POST'],
    ['/exec/nope/start', 'POST'],
  ]) {
    out.push({ what: `5,000-deep body to ${path}`, method, path, body: deepObject(5000), status: 400, message: 'exceeded max depth' });
  }

  // Size and shape.
  create('10 MB of garbage', 'x'.repeat(10 * MB), 400, 'invalid JSON');
  create('10 MB JSON array of numbers', `[${'1,'.repeat(5 * MB)}1]`, 400, 'Go value of type runconfig.ContainerConfigWrapper');
  create('17 MB body', `{"Image":"busybox","X":"${'a'.repeat(17 * MB)}"}`, 413, 'request body too large');
  create('trailing garbage', '{"Image":"busybox"} x', 400, 'invalid JSON');
  create('not JSON at all', '<xml/>', 400, 'invalid JSON');
  create('JSON null', 'null', 400, 'config cannot be empty');
  create('JSON string', '"busybox"', 400, 'Go value of type runconfig.ContainerConfigWrapper');
  create('__proto__ at the top', '{"Image":"busybox","Cmd":["true"],"__proto__":{"Privileged":true}}');
  create('__proto__ as a label', '{"Image":"busybox","Cmd":["true"],"Labels":{"__proto__":"x","constructor":"y"}}');
  create('__proto__ in HostConfig', '{"Image":"busybox","Cmd":["true"],"HostConfig":{"__proto__":{"Memory":"x"},"constructor":{"prototype":{"x":1}}}}');
  create('lone surrogate in a label', '{"Image":"busybox","Labels":{"a":"\\ud800"}}');
  out.push({ what: 'JSON body sent as text/plain', method: 'POST', path: '/containers/create', body: '{"Image":5}', headers: { 'Content-Type': 'text/plain' }, status: 400, message: 'ContainerConfigWrapper.Image' });
  out.push({ what: 'garbage exec start over HTTP', method: 'POST', path: '/exec/nope/start', body: '{"Detach":"x"}', status: 400, message: 'ExecStartOptions.Detach of type bool' });

  // Names: odd unicode, traversal, control characters.
  for (const name of ['%C3%A9t%C3%A9', '..%2F..%2Fetc', '%2E%2E', 'a%00b', '%E2%80%AEevil', '%F0%9F%90%B3whale', 'x', '-lead', '.hidden', 'a%20b', 'a%0Ab', `${'n'.repeat(300)}%2F`]) {
    create(`name=${name}`, createBody({}), 400, 'Invalid container name', `?name=${name}`);
  }
  out.push({ what: 'rename to traversal', method: 'POST', path: `/containers/${container}/rename?name=..%2F..%2Fx`, status: 400, message: 'Invalid container name' });
  out.push({ what: 'volume named ../../etc', method: 'POST', path: '/volumes/create', body: '{"Name":"../../etc"}', status: 400, message: 'includes invalid characters' });
  out.push({ what: 'volume named with a NUL', method: 'POST', path: '/volumes/create', body: '{"Name":"a\\u0000b"}', status: 400 });
  out.push({ what: 'volume Labels wrong type', method: 'POST', path: '/volumes/create', body: '{"Labels":{"a":1}}', status: 400, message: 'CreateOptions.Labels of type string' });
  out.push({ what: 'network Options wrong type', method: 'POST', path: '/networks/create', body: '{"Name":"n1","Options":{"a":true}}', status: 400, message: 'CreateRequest.Options of type string' });
  out.push({ what: 'network IPAM Config not a list', method: 'POST', path: '/networks/create', body: '{"Name":"n2","IPAM":{"Config":{}}}', status: 400, message: 'IPAM.Config of type []network.IPAMConfig' });
  out.push({ what: 'tag to a traversal', method: 'POST', path: '/images/busybox/tag?repo=..%2F..%2Fx&tag=..', status: 400, message: 'invalid reference format' });
  out.push({ what: 'tag upper case', method: 'POST', path: '/images/busybox/tag?repo=BUSY', status: 400, message: /repository name .*must be lowercase/ });
  create('image reference with a traversal', createBody({ Image: '../../etc/passwd' }), 400, 'invalid reference format');
  create('image reference upper case', createBody({ Image: 'BUSYBOX' }), 400, /repository name .*must be lowercase/);
  create('image reference with a NUL', createBody({ Image: 'busy\u0000box' }), 400, 'invalid reference format');

  // Traversal in paths.
  for (const path of ['/containers/..%2F..%2Fetc%2Fpasswd/json', '/containers/%2e%2e/json', '/images/..%2F..%2Fetc%2Fpasswd/json', '/volumes/..%2F..%2Fetc', '/networks/..%2F..%2Fetc', '/exec/..%2F..%2Fetc/json', '/containers/..%2F..%2Fetc/logs?stdout=1', '/images/%00/json']) {
    // 404 (no such object), or 400 where the name cannot even be a reference.
    out.push({ what: `GET ${path}`, method: 'GET', path, status: path.startsWith('/images/') ? 400 : 404 });
  }
  out.push({ what: 'archive of ../../etc/shadow stays in the container', method: 'HEAD', path: `/containers/${container}/archive?path=..%2F..%2F..%2Fetc%2Fshadow` });
  out.push({ what: 'archive of a NUL path', method: 'GET', path: `/containers/${container}/archive?path=%2Fetc%00x`, status: 400, message: 'invalid argument' });
  out.push({ what: 'stat of a NUL path', method: 'HEAD', path: `/containers/${container}/archive?path=%00`, status: 400 });

  // Query values.
  const queries: Array<[string, string, number | undefined, string | RegExp | undefined]> = [
    ['GET', '/containers/json?limit=abc', 400, 'strconv.Atoi: parsing "abc": invalid syntax'],
    ['GET', '/containers/json?limit=1e3', 400, 'strconv.Atoi: parsing "1e3": invalid syntax'],
    ['GET', '/containers/json?limit=99999999999999999999999', 400, 'value out of range'],
    ['GET', '/containers/json?filters=%7Bbad', 400, 'invalid filter'],
    ['GET', '/containers/json?filters=%5B%5D', 400, 'invalid filter'],
    ['GET', `/containers/json?filters=${encodeURIComponent(deepArray(2000))}`, 400, 'invalid filter'],
    ['GET', `/containers/json?filters=${encodeURIComponent(deepArray(5000))}`, 400, 'invalid filter'],
    ['GET', `/containers/json?filters=${encodeURIComponent(`{"label":${deepArray(5000)}}`)}`, 400, 'invalid filter'],
    // 2 MB of URL: over the 1 MB header limit (Go's, as dockerd), refused before routing.
    ['GET', `/containers/json?filters=${'%5B'.repeat(700_000)}`, 431, undefined],
    ['GET', '/containers/json?filters=%7B%22status%22%3A%5B%22sideways%22%5D%7D', 400, undefined],
    ['GET', '/containers/json?all=maybe', 200, undefined],
    ['GET', '/containers/json?all=yes&size=%00', 200, undefined],
    ['GET', `/containers/${container}/logs?stdout=1&tail=abc`, 200, undefined],
    ['GET', `/containers/${container}/logs?stdout=1&since=abc`, 400, undefined],
    ['POST', `/containers/${container}/stop?t=abc`, 400, 'invalid syntax'],
    ['POST', `/containers/${container}/stop?t=1e99`, 400, undefined],
    ['POST', `/containers/${container}/resize?h=-1&w=10`, 400, undefined],
    ['POST', `/containers/${container}/resize?h=abc&w=10`, 400, undefined],
    ['POST', `/containers/${container}/kill?signal=SIGFOO`, undefined, undefined],
    ['POST', `/containers/${container}/wait?condition=sideways`, 400, 'invalid condition'],
    ['GET', '/system/df?type=bogus', undefined, undefined],
    ['GET', '/images/json?filters=%7B%22dangling%22%3A%5B%22maybe%22%5D%7D', 400, undefined],
    ['GET', '/events?since=abc&until=1', 400, undefined],
    ['GET', `/containers/${container}/stats?stream=maybe&one-shot=what`, undefined, undefined],
    ['POST', '/build/prune?keep-storage=lots', 400, undefined],
    ['DELETE', '/containers/nosuch?force=%FF&v=%00', 404, 'No such container'],
  ];
  for (const [method, path, status, message] of queries) out.push({ what: `${method} ${path.slice(0, 80)}`, method, path, status, message });

  // Bad base64 and bad JSON in X-Registry-Auth: dockerd ignores an unreadable header (anonymous).
  for (const auth of ['!!!not-base64!!!', b64('{"username":'), b64('[1,2]'), b64(deepArray(5000)), '%%%', 'e30=', 'x'.repeat(64 * 1024)]) {
    out.push({ what: `push with X-Registry-Auth ${auth.slice(0, 20)}`, method: 'POST', path: '/images/nosuchimage/push', headers: { 'X-Registry-Auth': auth }, status: 404 });
    out.push({ what: `pull with X-Registry-Auth ${auth.slice(0, 20)}`, method: 'POST', path: '/images/create?fromImage=127.0.0.1%3A1%2Fnope&tag=latest', headers: { 'X-Registry-Auth': auth } });
  }
  out.push({ what: 'build with an unreadable X-Registry-Config', method: 'POST', path: '/build?t=x', body: Buffer.alloc(1024), headers: { 'X-Registry-Config': '!!!', 'Content-Type': 'application/x-tar' } });
  out.push({ what: '/auth with a wrong type', method: 'POST', path: '/auth', body: '{"username":5}', status: 400, message: 'AuthConfig.username of type string' });
  return out;
}

describe('hostile requests never poison state', () => {
  let berth: Berth;
  let container: string;
  before(async () => {
    berth = await startBerth();
    container = berth.ok(['create', '--name', 'target', 'busybox', 'sleep', '1000']).trim();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('answers a corpus of malformed and hostile requests without a 500, each error with a message', async () => {
    const cases = corpus(container);
    assert.ok(cases.length >= 100, `corpus has ${cases.length} requests`);
    const failures: string[] = [];
    for (const c of cases) {
      const r = await send(berth.socket, c);
      let message: string | undefined;
      try {
        message = r.body ? (JSON.parse(r.body.trim().split('\n').pop() ?? '') as { message?: string; error?: string }).message : undefined;
      } catch {
        message = undefined;
      }
      const problems: string[] = [];
      if (r.status >= 500 && r.status !== 503) problems.push(`status ${r.status}`);
      if (c.status !== undefined && r.status !== c.status) problems.push(`status ${r.status}, expected ${c.status}`);
      if (r.status >= 400 && c.method !== 'HEAD' && !message) problems.push('error without a message');
      if (c.message !== undefined && !(typeof c.message === 'string' ? message?.includes(c.message) : c.message.test(message ?? ''))) {
        problems.push(`message ${JSON.stringify(message)} lacks ${c.message}`);
      }
      if (message && /Maximum call stack|RangeError|TypeError|Cannot read prop/.test(message)) problems.push(`JavaScript error leaked: ${message}`);
      if (problems.length) failures.push(`${c.what}: ${problems.join('; ')}`);
    }
    assert.deepEqual(failures, []);
  });

  it('answers the issue\'s examples with dockerd\'s exact words, and takes what dockerd takes', async () => {
    const post = (body: string, query = '') => send(berth.socket, { what: body, method: 'POST', path: `/containers/create${query}`, body });
    const exact: Array<[string, string]> = [
      ['{"Image":"busybox","HostConfig":{"Memory":"lots"}}', 'invalid JSON: json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64'],
      ['{"Image":"busybox","HostConfig":{"Memory":1e23}}', 'invalid JSON: json: cannot unmarshal number 1e23 into Go struct field HostConfig.HostConfig.Memory of type int64'],
      ['{"Image":"busybox","ExposedPorts":{"99999/tcp":{}}}', 'invalid port specification: "99999/tcp"'],
      ['{"Image":"busybox","ExposedPorts":{"-1/tcp":{}}}', 'invalid port specification: "-1/tcp"'],
      ['{"Image":"busybox","HostConfig":{"CpuShares":-1}}', 'invalid CPU shares (-1): value must be a positive integer'],
      ['{"Image":"busybox","HostConfig":{"Memory":1024}}', 'Minimum memory limit allowed is 6MB'],
    ];
    for (const [body, message] of exact) {
      const r = await post(body);
      assert.deepEqual([r.status, JSON.parse(r.body)], [400, { message }], body);
    }
    // Go matches keys in any case, null is the zero value, unknown keys are ignored.
    const loose = await post('{"image":"busybox","cmd":["true"],"hostconfig":{"memory":null,"CPUSHARES":512},"Env":null,"NoSuchField":{"x":[1]}}', '?name=loose');
    assert.equal(loose.status, 201, loose.body);
    const hc = JSON.parse(berth.ok(['inspect', '--format', '{{json .HostConfig}}', 'loose'])) as { CpuShares: number };
    assert.equal(hc.CpuShares, 512);
    assert.equal(berth.ok(['inspect', '--format', '{{.Config.Image}} {{json .Config.Cmd}}', 'loose']).trim(), 'busybox ["true"]');
    const all = await send(berth.socket, { what: 'all=yes', method: 'GET', path: '/containers/json?all=yes' });
    assert.ok((JSON.parse(all.body) as Array<{ Names: string[] }>).some((c) => c.Names.includes('/loose')));
  });

  it('leaves every reader working: ps -a, inspect of every container, images, system df, networks, volumes', () => {
    const ids = berth.ok(['ps', '-aq', '--no-trunc']).trim().split('\n').filter(Boolean);
    assert.ok(ids.includes(container));
    const inspected = JSON.parse(berth.ok(['inspect', ...ids])) as Array<{ Id: string }>;
    assert.deepEqual(inspected.map((c) => c.Id).sort(), [...ids].sort());
    berth.ok(['ps', '-a', '--format', '{{.ID}} {{.Ports}} {{.Names}} {{.Status}}']);
    assert.match(berth.ok(['images']), /busybox/);
    berth.ok(['system', 'df', '-v']);
    berth.ok(['network', 'ls']);
    berth.ok(['volume', 'ls']);
    // The target container still starts and runs.
    berth.ok(['start', container]);
    assert.equal(berth.ok(['exec', container, 'echo', 'alive']).trim(), 'alive');
  });
});
