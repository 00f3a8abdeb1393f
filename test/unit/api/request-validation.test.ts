import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { OPENAPI_PATH, RequestValidators, type PartValidator } from '../../../src/api/validation/request-validators';
import { MAX_JSON_DEPTH, parseJsonBody } from '../../../src/api/validation/json-text';

// Every case runs against the checks the build precompiled and against ones ajv compiles at run
// time (the daemon's path when openapi.json changed after the build): both must answer alike.
const variants: Array<[string, () => RequestValidators]> = [
  ['precompiled by the build', () => RequestValidators.fromFile()],
  ['compiled at run time', () => RequestValidators.fromFile(OPENAPI_PATH, '/nonexistent/precompiled.js')],
];
let validators: RequestValidators;

/** Runs a validator as fastify does: parsed body in, `{ value }` / `{ error }` / true out. */
function run(validate: PartValidator, data: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const r = validate(data);
  if (r === true) return { ok: true, value: data };
  if (r === false) return { ok: false, message: 'false' };
  if ('error' in r) return { ok: false, message: r.error.message };
  return { ok: true, value: r.value };
}

const create = (text: string) => run(validators.forOperation('POST', '/containers/create').body!.validate, parseJsonBody(text));
const messageOf = (text: string) => {
  const r = create(text);
  assert.equal(r.ok, false, `${text} should be refused`);
  return (r as { message: string }).message;
};

for (const [variant, load] of variants) describe(`request validation from openapi.json (${variant})`, () => {
  before(() => {
    validators = load();
  });

  it('words type errors as Go does (compared with dockerd 20.10, which answers them with a 500)', () => {
    const cases: Array<[string, string]> = [
      ['{"Image":"busybox","HostConfig":{"Memory":"lots"}}', 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64'],
      ['{"Image":"busybox","HostConfig":{"Memory":1e23}}', 'json: cannot unmarshal number 1e23 into Go struct field HostConfig.HostConfig.Memory of type int64'],
      ['{"Image":"busybox","HostConfig":{"Memory":1.5}}', 'json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64'],
      ['{"Image":"busybox","HostConfig":{"CpuShares":1e3}}', 'json: cannot unmarshal number 1e3 into Go struct field HostConfig.HostConfig.CpuShares of type int64'],
      ['{"Image":"busybox","HostConfig":{"Memory":-9223372036854775809}}', 'json: cannot unmarshal number -9223372036854775809 into Go struct field HostConfig.HostConfig.Memory of type int64'],
      ['{"Image":"busybox","HostConfig":{"BlkioWeight":-1}}', 'json: cannot unmarshal number -1 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16'],
      ['{"Image":"busybox","HostConfig":{"ConsoleSize":[-1,2]}}', 'json: cannot unmarshal number -1 into Go struct field HostConfig.HostConfig.ConsoleSize of type uint'],
      ['{"Image":"busybox","Cmd":5}', 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type string'],
      ['{"Image":"busybox","Cmd":[{}]}', 'json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Cmd of type string'],
      ['{"Image":5}', 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Image of type string'],
      ['{"Image":"busybox","Env":[1]}', 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Env of type string'],
      ['{"Image":"busybox","Env":{"a":1}}', 'json: cannot unmarshal object into Go struct field ContainerConfigWrapper.Env of type []string'],
      ['{"Image":"busybox","Labels":{"a":1}}', 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type string'],
      ['{"Image":"busybox","Labels":5}', 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type map[string]string'],
      ['{"Image":"busybox","ExposedPorts":[]}', 'json: cannot unmarshal array into Go struct field ContainerConfigWrapper.ExposedPorts of type nat.PortSet'],
      ['{"Image":"busybox","ExposedPorts":{"80":5}}', 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.ExposedPorts of type struct {}'],
      ['{"Image":"busybox","Healthcheck":5}', 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Healthcheck of type container.HealthConfig'],
      ['{"Image":"busybox","Healthcheck":{"Interval":"1s"}}', 'json: cannot unmarshal string into Go struct field HealthConfig.Healthcheck.Interval of type time.Duration'],
      ['{"Image":"busybox","HostConfig":5}', 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.HostConfig of type container.HostConfig'],
      ['{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":5}}}', 'json: cannot unmarshal number into Go struct field HostConfig.HostConfig.PortBindings of type []nat.PortBinding'],
      ['{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":5}]}}}', 'json: cannot unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string'],
      ['{"Image":"busybox","HostConfig":{"RestartPolicy":{"MaximumRetryCount":"x"}}}', 'json: cannot unmarshal string into Go struct field RestartPolicy.HostConfig.RestartPolicy.MaximumRetryCount of type int'],
      ['{"Image":"busybox","HostConfig":{"Ulimits":[{"Name":"nofile","Soft":"x"}]}}', 'json: cannot unmarshal string into Go struct field Ulimit.HostConfig.Ulimits.Soft of type int64'],
      ['{"Image":"busybox","HostConfig":{"Mounts":[{"Type":5}]}}', 'json: cannot unmarshal number into Go struct field Mount.HostConfig.Mounts.Type of type mount.Type'],
      ['{"Image":"busybox","HostConfig":{"DeviceRequests":[{"Count":"x"}]}}', 'json: cannot unmarshal string into Go struct field DeviceRequest.HostConfig.DeviceRequests.Count of type int'],
      ['{"Image":"busybox","HostConfig":{"Privileged":"yes"}}', 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Privileged of type bool'],
      ['{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"bridge":{"IPAMConfig":{"IPv4Address":5}}}}}', 'json: cannot unmarshal number into Go struct field EndpointIPAMConfig.NetworkingConfig.EndpointsConfig.IPAMConfig.IPv4Address of type string'],
      ['[1]', 'json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper'],
      ['"x"', 'json: cannot unmarshal string into Go value of type runconfig.ContainerConfigWrapper'],
    ];
    for (const [body, words] of cases) assert.equal(messageOf(body), `invalid JSON: ${words}`, body);
  });

  it('reports the first error in document order', () => {
    assert.match(messageOf('{"Image":5,"HostConfig":{"Memory":"x"}}'), /ContainerConfigWrapper\.Image/);
    assert.match(messageOf('{"HostConfig":{"Memory":"x"},"Image":5}'), /HostConfig\.HostConfig\.Memory/);
  });

  it('uses dockerd words for ranges the document declares', () => {
    assert.equal(messageOf('{"Image":"busybox","HostConfig":{"ShmSize":-1}}'), 'SHM size can not be less than 0');
    assert.equal(messageOf('{"Image":"busybox","HostConfig":{"MemorySwappiness":-2}}'), 'Invalid value: -2, valid memory swappiness range is 0-100');
    assert.equal(messageOf('{"Image":"busybox","HostConfig":{"BlkioWeight":5000}}'), 'Range of blkio weight is from 10 to 1000');
    assert.equal(create('{"Image":"busybox","HostConfig":{"MemorySwappiness":-1}}').ok, true);
  });

  it('decodes as Go: keys in any case (a later one wins), null as zero value, unknown keys ignored', () => {
    const r = create('{"image":"x","IMAGE":"busybox","cmd":"true","hostconfig":{"memory":null,"blkioWEIGHT":300},"Env":[null,"A=1"],"Labels":{"a":null},"Whatever":{"deep":[1]}}');
    assert.ok(r.ok);
    assert.deepEqual(r.value, { Image: 'busybox', Cmd: 'true', HostConfig: { Memory: null, BlkioWeight: 300 }, Env: ['', 'A=1'], Labels: { a: '' }, Whatever: { deep: [1] } });
  });

  it('takes integers Go takes, and refuses what would be stored as a number Go cannot read back', () => {
    assert.equal(create('{"Image":"busybox","HostConfig":{"Memory":-9223372036854775808}}').ok, true);
    assert.equal(create('{"Image":"busybox","HostConfig":{"Memory":9007199254740993}}').ok, true);
    assert.equal(create('{"Image":"busybox","StopTimeout":-1,"HostConfig":{"MemorySwap":-1}}').ok, true);
    assert.match(messageOf('{"Image":"busybox","HostConfig":{"Memory":1e400}}'), /number 1e400/);
  });

  it('validates the other JSON bodies from the same document', () => {
    const exec = validators.forOperation('POST', '/containers/{id}/exec').body!.validate;
    assert.deepEqual(run(exec, { cmd: ['ls'], tty: true }), { ok: true, value: { Cmd: ['ls'], Tty: true } });
    assert.equal((run(exec, { Cmd: 'ls' }) as { message: string }).message, 'invalid JSON: json: cannot unmarshal string into Go struct field ExecOptions.Cmd of type []string');
    const start = validators.forOperation('POST', '/exec/{id}/start').body!.validate;
    assert.equal((run(start, { Detach: 'x' }) as { message: string }).message, 'invalid JSON: json: cannot unmarshal string into Go struct field ExecStartOptions.Detach of type bool');
    const net = validators.forOperation('POST', '/networks/create').body!.validate;
    assert.equal((run(net, { Name: 'n', Labels: { a: 1 } }) as { message: string }).message, 'invalid JSON: json: cannot unmarshal number into Go struct field CreateRequest.Labels of type string');
    const update = validators.forOperation('POST', '/containers/{id}/update').body!.validate;
    assert.equal((run(update, { Memory: 'x' }) as { message: string }).message, 'invalid JSON: json: cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64');
    for (const op of ['POST /volumes/create', 'POST /commit', 'POST /auth', 'POST /networks/{id}/connect', 'POST /plugins/{name}/set']) {
      const [method, path] = op.split(' ');
      assert.ok(validators.forOperation(method, path).body, `${op} has a body validator`);
    }
    for (const op of ['PUT /containers/{id}/archive', 'POST /images/load', 'POST /build', 'POST /images/create']) {
      const [method, path] = op.split(' ');
      assert.equal(validators.forOperation(method, path).body, undefined, `${op} streams its body`);
    }
  });

  it('checks query integers and patterns, and never refuses a boolean (dockerd BoolValue)', () => {
    const list = validators.forOperation('GET', '/containers/json').query!.validate;
    assert.equal(run(list, { all: 'yes', limit: '3' }).ok, true);
    assert.equal((run(list, { limit: 'abc' }) as { message: string }).message, 'strconv.Atoi: parsing "abc": invalid syntax');
    assert.equal((run(list, { limit: '99999999999999999999' }) as { message: string }).message, 'strconv.Atoi: parsing "99999999999999999999": value out of range');
    const createQ = validators.forOperation('POST', '/containers/create').query!.validate;
    assert.equal(run(createQ, { name: '' }).ok, true);
    assert.equal(run(createQ, { name: '/web-1.a_b' }).ok, true);
    assert.equal((run(createQ, { name: '../x' }) as { message: string }).message, 'Invalid container name (../x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    assert.equal(run(validators.forOperation('GET', '/containers/{id}/logs').query!?.validate ?? (() => true), { since: '1690000000.123456789' }).ok, true);
  });

  it('refuses nesting deeper than the limit before anything recursive sees it', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    assert.throws(() => parseJsonBody(deep(5000)), /^InvalidParameterError: invalid JSON: exceeded max depth$/);
    assert.throws(() => parseJsonBody(`{"a":${'{"a":'.repeat(5000)}1${'}'.repeat(5001)}`), /exceeded max depth/);
    assert.doesNotThrow(() => parseJsonBody(deep(MAX_JSON_DEPTH)));
    // Brackets inside strings do not count.
    assert.doesNotThrow(() => parseJsonBody(JSON.stringify({ s: '['.repeat(10000) })));
  });
});

describe('precompiled request validators', () => {
  it('are used when the build made them from the same document', () => {
    assert.equal(RequestValidators.fromFile().isPrecompiled, true);
    assert.equal(RequestValidators.fromFile(OPENAPI_PATH, '/nonexistent/precompiled.js').isPrecompiled, false);
  });

  it('are ignored when the document changed after the build', () => {
    const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as { info: { title: string } };
    doc.info.title += ' (edited)';
    const dir = mkdtempSync(join(tmpdir(), 'berth-openapi-'));
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
    const edited = RequestValidators.fromFile(join(dir, 'openapi.json'));
    rmSync(dir, { recursive: true });
    assert.equal(edited.isPrecompiled, false);
    const r = edited.forOperation('POST', '/containers/create').body!.validate(parseJsonBody('{"Image":"busybox","HostConfig":{"Memory":"lots"}}'));
    assert.match((r as { error: Error }).error.message, /cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64/);
  });
});
