import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isValidInterfaceName,
  parseBridgeOptions,
  validateIpamConfig,
} from '../../../../src/engine/networks/create-validation';
import { parseGoBool } from '../../../../src/engine/filter-args';

const invalid = (message: string) => ({ name: 'InvalidParameterError', message });

describe('IPAM validation (dockerd ValidateIPAM)', () => {
  it('accepts good IPv4 entries and skips IPv6 ones', () => {
    validateIpamConfig([]);
    validateIpamConfig([{ Subnet: '10.5.0.0/16', IPRange: '10.5.1.0/24', Gateway: '10.5.0.1', AuxiliaryAddresses: { host: '10.5.0.2' } }]);
    validateIpamConfig([{ Subnet: 'fd00::/64', Gateway: 'nonsense' }]);
  });

  it('reports a malformed or unmasked subnet', () => {
    assert.throws(() => validateIpamConfig([{ Subnet: '10.5.0.0' }]), invalid('invalid network config:\n* invalid subnet 10.5.0.0: invalid CIDR block notation'));
    assert.throws(() => validateIpamConfig([{}]), invalid('invalid network config:\n* invalid subnet : invalid CIDR block notation'));
    assert.throws(() => validateIpamConfig([{ Subnet: '10.5.0.1/16' }]), invalid('invalid network config:\n* invalid subnet 10.5.0.1/16: it should be 10.5.0.0/16'));
  });

  it('reports every problem of the IP range', () => {
    assert.throws(
      () => validateIpamConfig([{ Subnet: '10.5.0.0/16', IPRange: '10.0.0.1/8' }]),
      invalid(
        'invalid network config:\n' +
          '* invalid ip-range 10.0.0.1/8: CIDR block is bigger than its parent subnet 10.5.0.0/16\n' +
          '* invalid ip-range 10.0.0.1/8: it should be 10.0.0.0/8',
      ),
    );
    assert.throws(
      () => validateIpamConfig([{ Subnet: '10.5.0.0/16', IPRange: '10.6.0.0/24' }]),
      invalid("invalid network config:\n* invalid ip-range 10.6.0.0/24: parent subnet 10.5.0.0/16 doesn't contain ip-range"),
    );
    assert.throws(() => validateIpamConfig([{ Subnet: '10.5.0.0/16', IPRange: 'x' }]), invalid('invalid network config:\n* invalid ip-range x: invalid CIDR block notation'));
    assert.throws(
      () => validateIpamConfig([{ Subnet: '10.5.0.0/16', IPRange: 'fd00::/64' }]),
      invalid('invalid network config:\n* invalid ip-range fd00::/64: parent subnet is an IPv4 block'),
    );
  });

  it('reports gateway and auxiliary addresses outside the subnet, all entries together', () => {
    assert.throws(
      () =>
        validateIpamConfig([
          { Subnet: '10.5.0.0/16', Gateway: '10.6.0.1', AuxiliaryAddresses: { a: 'bad', b: '::1' } },
          { Subnet: '10.7.0.0/16', Gateway: '10.7.0.1' },
          { Subnet: '10.8.0.1/16' },
        ]),
      invalid(
        'invalid network config:\n' +
          "* invalid gateway 10.6.0.1: parent subnet 10.5.0.0/16 doesn't contain this address\n" +
          '* invalid auxiliary address a: invalid address\n' +
          '* invalid auxiliary address b: parent subnet is an IPv4 block\n' +
          '* invalid subnet 10.8.0.1/16: it should be 10.8.0.0/16',
      ),
    );
  });
});

describe('bridge driver options', () => {
  it('default to masquerading and ICC on, device and MTU unset', () => {
    assert.deepEqual(parseBridgeOptions({}), { ipMasquerade: true, icc: true });
    assert.deepEqual(parseBridgeOptions({ 'com.docker.network.bridge.name': '' }), { ipMasquerade: true, icc: true });
  });

  it('read the device, MTU and booleans the way Go does', () => {
    assert.deepEqual(
      parseBridgeOptions({
        'com.docker.network.bridge.name': 'br-test',
        'com.docker.network.driver.mtu': '1400',
        'com.docker.network.bridge.enable_ip_masquerade': 'False',
        'com.docker.network.bridge.enable_icc': '0',
        'com.example.other': 'anything',
      }),
      { device: 'br-test', mtu: 1400, ipMasquerade: false, icc: false },
    );
    assert.deepEqual(parseBridgeOptions({ 'com.docker.network.driver.mtu': '0' }), { ipMasquerade: true, icc: true });
  });

  it("reject malformed values with the bridge driver's messages", () => {
    assert.throws(
      () => parseBridgeOptions({ 'com.docker.network.bridge.enable_ip_masquerade': 'yes' }),
      invalid('failed to parse com.docker.network.bridge.enable_ip_masquerade value: yes (strconv.ParseBool: parsing "yes": invalid syntax)'),
    );
    assert.throws(
      () => parseBridgeOptions({ 'com.docker.network.driver.mtu': '15x' }),
      invalid('failed to parse com.docker.network.driver.mtu value: 15x (strconv.Atoi: parsing "15x": invalid syntax)'),
    );
    assert.throws(() => parseBridgeOptions({ 'com.docker.network.driver.mtu': '-1' }), invalid('invalid MTU number: -1'));
    assert.throws(() => parseBridgeOptions({ 'com.docker.network.bridge.name': 'a-very-long-name0' }), /failed to parse com\.docker\.network\.bridge\.name value: a-very-long-name0/);
  });

  it('accept only names Linux accepts for an interface', () => {
    for (const ok of ['berth0', 'br-0123456789ab', 'x', 'a'.repeat(15)]) assert.equal(isValidInterfaceName(ok), true, ok);
    for (const bad of ['', 'a'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b']) assert.equal(isValidInterfaceName(bad), false, bad);
  });

  it('parse booleans as strconv.ParseBool', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(t), true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(f), false);
    for (const x of ['', 'yes', 'tRUE', ' true']) assert.equal(parseGoBool(x), undefined);
  });
});
