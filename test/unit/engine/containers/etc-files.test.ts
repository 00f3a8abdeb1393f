import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostsFile, resolvConfFile, type HostResolvConf } from '../../../../src/engine/containers/etc-files';

const host: HostResolvConf = { nameservers: ['10.0.0.53', '127.0.0.53'], search: ['corp.example'], options: ['edns0'], raw: '' };
const none = { dns: [], dnsSearch: [], dnsOptions: [] };

describe('container /etc files', () => {
  it('points user-network containers at the embedded DNS with ndots:0, as moby does', () => {
    assert.equal(
      resolvConfFile(host, { ...none, embeddedDns: true }),
      [
        'nameserver 127.0.0.11',
        'search corp.example',
        'options edns0 ndots:0',
        '',
        "# Based on host file: '/etc/resolv.conf' (internal resolver)",
        '# ExtServers: [host(10.0.0.53) host(127.0.0.53)]',
        '# Overrides: []',
        '# Option ndots from: internal',
        '',
      ].join('\n'),
    );
    const custom = resolvConfFile(host, { dns: ['9.9.9.9'], dnsSearch: [], dnsOptions: ['ndots:3'], embeddedDns: true });
    assert.match(custom, /^options ndots:3$/m);
    assert.match(custom, /^# ExtServers: \[9\.9\.9\.9\]$/m);
    assert.match(custom, /^# Overrides: \[nameservers options\]$/m);
    assert.match(custom, /^# Option ndots from: override$/m);
    // An invalid ndots gives way to the one the embedded DNS needs.
    assert.match(resolvConfFile(host, { ...none, dnsOptions: ['ndots:x'], embeddedDns: true }), /^options ndots:0$/m);
  });

  it('names the embedded DNS by its own address when the container cannot use 127.0.0.11 (gVisor)', () => {
    const text = resolvConfFile(host, { ...none, embeddedDns: true, resolver: '10.1.2.1' });
    assert.ok(text.startsWith('nameserver 10.1.2.1\nsearch corp.example\noptions edns0 ndots:0\n'), text);
    assert.doesNotMatch(text, /127\.0\.0\.11/);
  });

  it('keeps the host resolvers (no loopback ones) on the default bridge', () => {
    assert.equal(resolvConfFile(host, { ...none, embeddedDns: false }), 'nameserver 10.0.0.53\nsearch corp.example\noptions edns0\n');
  });

  it('writes an IPv6 hosts line next to the IPv4 one on dual-stack networks', () => {
    const text = hostsFile({ hostname: 'box', ip: '10.0.0.2', ip6: 'fd00:1::2', extraHosts: [] });
    assert.match(text, /\n10\.0\.0\.2\tbox\nfd00:1::2\tbox\n$/);
  });
});
