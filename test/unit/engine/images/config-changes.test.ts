import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyConfigChanges } from '../../../../src/engine/images/config-changes';
import { commitImageConfig } from '../../../../src/engine/containers/commit-config';

describe('--change instructions (docker commit / import)', () => {
  it('applies the metadata instructions with Dockerfile syntax', () => {
    const out = applyConfigChanges({ Env: ['PATH=/bin', 'A=0'], WorkingDir: '/srv' }, [
      'CMD ["cat", "/f"]',
      'ENTRYPOINT /bin/echo hi',
      'ENV A=1 B="two words"',
      'ENV LEGACY some value',
      'LABEL a=b "c d"=e',
      'EXPOSE 80 53/udp',
      'VOLUME ["/data"]',
      'VOLUME /logs /cache',
      'USER 1000:1000',
      'WORKDIR app',
      'STOPSIGNAL SIGINT',
      'ONBUILD RUN true',
      'HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost',
    ]);
    assert.deepEqual(out.Cmd, ['cat', '/f']);
    assert.deepEqual(out.Entrypoint, ['/bin/sh', '-c', '/bin/echo hi']);
    assert.deepEqual(out.Env, ['PATH=/bin', 'A=1', 'B=two words', 'LEGACY=some value']);
    assert.deepEqual(out.Labels, { a: 'b', 'c d': 'e' });
    assert.deepEqual(out.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.deepEqual(out.Volumes, { '/data': {}, '/logs': {}, '/cache': {} });
    assert.equal(out.User, '1000:1000');
    assert.equal(out.WorkingDir, '/srv/app');
    assert.equal(out.StopSignal, 'SIGINT');
    assert.deepEqual(out.OnBuild, ['RUN true']);
    assert.deepEqual(out.Healthcheck, { Interval: 5e9, Retries: 3, Test: ['CMD-SHELL', 'wget -q localhost'] });
  });

  it('refuses instructions that are not metadata, with dockerd\'s message', () => {
    assert.throws(() => applyConfigChanges({}, ['RUN echo hi']), { name: 'InvalidParameterError', message: 'run is not a valid change command' });
    assert.throws(() => applyConfigChanges({}, ['COPY a b']), { message: 'copy is not a valid change command' });
    assert.throws(() => applyConfigChanges({}, ['ENV']), { name: 'InvalidParameterError' });
    assert.throws(() => applyConfigChanges({}, ['FOO bar']), { message: 'foo is not a valid change command' });
  });

  it('parses them with the Dockerfile parser: its checks, bare messages, and variables from the config', () => {
    assert.throws(() => applyConfigChanges({}, ['ENV A=1 B']), { name: 'InvalidParameterError', message: 'Syntax error - can\'t find = in "B". Must be of the form: name=value' });
    assert.throws(() => applyConfigChanges({}, ['USER']), { message: 'USER requires exactly one argument' });
    assert.throws(() => applyConfigChanges({}, ['HEALTHCHECK --bogus=1 CMD true']), { message: 'Unknown flag: bogus' });
    const out = applyConfigChanges({ Env: ['HOME=/root'] }, ['ENV DATA=$HOME/data', 'WORKDIR $DATA', 'LABEL where="${DATA}"', '# a comment', '']);
    assert.deepEqual(out.Env, ['HOME=/root', 'DATA=/root/data']);
    assert.equal(out.WorkingDir, '/root/data');
    assert.deepEqual(out.Labels, { where: '/root/data' });
    assert.deepEqual(applyConfigChanges({ User: 'x' }, ['# only a comment']), { User: 'x' });
  });
});

describe('commit config (dockerd merge)', () => {
  const container = { Cmd: ['sh'], Env: ['PATH=/bin', 'X=1'], Labels: { keep: 'yes' }, WorkingDir: '/w', User: 'nobody', ExposedPorts: { '80/tcp': {} } };

  it('takes the container config when nothing overrides it', () => {
    const out = commitImageConfig(container, undefined, []);
    assert.deepEqual(out.Cmd, ['sh']);
    assert.deepEqual(out.Env, ['PATH=/bin', 'X=1']);
    assert.equal(out.WorkingDir, '/w');
    assert.equal(out.User, 'nobody');
  });

  it('lets changes win and adds what the container has by key', () => {
    const out = commitImageConfig(container, undefined, ['ENV X=2 Y=3', 'LABEL new=1', 'EXPOSE 443', 'CMD ["true"]']);
    assert.deepEqual(out.Env, ['X=2', 'Y=3', 'PATH=/bin']);
    assert.deepEqual(out.Labels, { keep: 'yes', new: '1' });
    assert.deepEqual(out.ExposedPorts, { '80/tcp': {}, '443/tcp': {} });
    assert.deepEqual(out.Cmd, ['true']);
  });

  it('with an Entrypoint change the container Cmd is not inherited', () => {
    const out = commitImageConfig(container, undefined, ['ENTRYPOINT ["/bin/app"]']);
    assert.deepEqual(out.Entrypoint, ['/bin/app']);
    assert.equal(out.Cmd, undefined);
  });
});
