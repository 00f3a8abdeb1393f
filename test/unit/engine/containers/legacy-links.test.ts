import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linkAliasRecords, linkEnv, parseLink } from '../../../../src/engine/containers/legacy-links';

describe('legacy links', () => {
  it('parses the link forms clients send', () => {
    assert.deepEqual(parseLink('db:al'), { ref: 'db', alias: 'al' });
    assert.deepEqual(parseLink('db'), { ref: 'db', alias: 'db' });
    assert.deepEqual(parseLink('/db:/web/al'), { ref: 'db', alias: 'al' });
    assert.throws(() => parseLink(':al'), /invalid link format/);
  });

  it('describes the child as dockerd does: ports (TCP first), ranges, name, its Env but HOME/PATH', () => {
    const env = linkEnv({
      name: '/web/my-db',
      childIp: '10.0.0.2',
      childEnv: ['PATH=/bin', 'HOME=/root', 'FOO=1', 'EQ=a=b'],
      exposedPorts: { '53/udp': {}, '80/tcp': {}, '81': {} },
    });
    assert.deepEqual(env, [
      'MY_DB_PORT=tcp://10.0.0.2:80',
      'MY_DB_PORT_80_TCP=tcp://10.0.0.2:80',
      'MY_DB_PORT_80_TCP_ADDR=10.0.0.2',
      'MY_DB_PORT_80_TCP_PORT=80',
      'MY_DB_PORT_80_TCP_PROTO=tcp',
      'MY_DB_PORT_81_TCP=tcp://10.0.0.2:81',
      'MY_DB_PORT_81_TCP_ADDR=10.0.0.2',
      'MY_DB_PORT_81_TCP_PORT=81',
      'MY_DB_PORT_81_TCP_PROTO=tcp',
      // A run of ports is reported once the port after it is seen (moby's loop does the same).
      'MY_DB_PORT_53_UDP=udp://10.0.0.2:53',
      'MY_DB_PORT_53_UDP_ADDR=10.0.0.2',
      'MY_DB_PORT_53_UDP_PORT=53',
      'MY_DB_PORT_53_UDP_PROTO=udp',
      'MY_DB_PORT_80_TCP_START=tcp://10.0.0.2:80',
      'MY_DB_PORT_80_TCP_PORT_START=80',
      'MY_DB_PORT_80_TCP_END=tcp://10.0.0.2:81',
      'MY_DB_PORT_80_TCP_PORT_END=81',
      'MY_DB_NAME=/web/my-db',
      'MY_DB_ENV_FOO=1',
      'MY_DB_ENV_EQ=a=b',
    ]);
  });

  it('has only the name and Env without exposed ports', () => {
    assert.deepEqual(linkEnv({ name: '/p/al', childIp: '10.0.0.3', childEnv: ['X=y'], exposedPorts: null }), ['AL_NAME=/p/al', 'AL_ENV_X=y']);
  });

  it('scopes a user-network link alias to the linking container', () => {
    const records = [
      { names: ['db', 'db-alias'], ip: '10.0.0.2', ip6: 'fd00:1::2' },
      { names: ['web'], ip: '10.0.0.3' },
    ];
    assert.deepEqual(linkAliasRecords(records, [{ client: '10.0.0.3', links: ['DB:al', 'missing:x', ':bad'] }]), [
      { names: ['al'], ip: '10.0.0.2', ip6: 'fd00:1::2', client: '10.0.0.3' },
    ]);
  });
});
