/**
 * Errors the network layer raises for conditions a client caused. The engine maps them to its
 * own classes (the network layer never imports the engine); each carries a stable `kind` and
 * dockerd's wording as its message. Anything else that fails is a plain `Error` or an
 * `ExternalCommandError` (a system error).
 */

export type NetworkErrorKind =
  /** A static address (`--ip`) that another endpoint holds. dockerd: Forbidden/Conflict. */
  | 'address-in-use'
  /** A static address outside the network's subnet, or its network/broadcast/gateway address. */
  | 'invalid-address'
  /** No free address left in the network's range. */
  | 'no-addresses'
  /** A published host port that is already taken (by Berth or by another program). */
  | 'port-allocated'
  /** The container already has this interface on this network. dockerd: Conflict. */
  | 'endpoint-exists'
  /** A network spec or request the plumbing cannot express (bad bridge name, CIDR, MAC...). */
  | 'invalid-parameter';

export class NetworkPlumbingError extends Error {
  readonly kind: NetworkErrorKind;

  constructor(kind: NetworkErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkPlumbingError';
    this.kind = kind;
  }
}

export function addressInUse(ip: string, options?: { cause?: unknown }): NetworkPlumbingError {
  // libnetwork: ipamapi.ErrIPAlreadyAllocated
  return new NetworkPlumbingError('address-in-use', `Address already in use: ${ip}`, options);
}

export function invalidAddress(ip: string): NetworkPlumbingError {
  // libnetwork (endpoint.assignAddressVersion)
  return new NetworkPlumbingError('invalid-address', `Invalid address ${ip}: It does not belong to any of this network's subnets`);
}

/** Another Berth endpoint holds the port (dockerd's port allocator wording). */
export function portAllocated(hostIp: string, hostPort: number): NetworkPlumbingError {
  return new NetworkPlumbingError('port-allocated', `Bind for ${hostIp || '0.0.0.0'}:${hostPort} failed: port is already allocated`);
}

/** Another program holds the port (dockerd's userland-proxy wording for EADDRINUSE). */
export function portInUse(protocol: 'tcp' | 'udp', hostIp: string, hostPort: number, cause: unknown): NetworkPlumbingError {
  return new NetworkPlumbingError(
    'port-allocated',
    `Error starting userland proxy: listen ${protocol}4 ${hostIp || '0.0.0.0'}:${hostPort}: bind: address already in use`,
    { cause },
  );
}

export function endpointExists(containerId: string, ifname: string, network: string): NetworkPlumbingError {
  return new NetworkPlumbingError('endpoint-exists', `container ${containerId} already has ${ifname} on network ${network}`);
}

export function invalidParameter(message: string): NetworkPlumbingError {
  return new NetworkPlumbingError('invalid-parameter', message);
}
