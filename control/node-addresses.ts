// How clients and probers dial a node: the deployed addresses (known at deploy time) joined with the node's identity (learnt at run time).
import * as z from 'zod';

/** Default port of the TLS websocket listener in front of a node when a domain is configured. */
export const DEFAULT_SECURE_WEBSOCKET_PORT = 443;

const port = z.number().int().min(1).max(65535);

/** One node's entry in `/storefleet/{fleet}/nodes/{region}`, as StoreNodeFleet writes it. */
export const DeployedAddressSchema = z.looseObject({
  ip: z.string().min(1),
  tcp: port,
  websocket: port,
  secureWebsocket: port.optional(),
  /** `{node id}.{domain}` when the deployment has a domain. */
  dns4: z.string().min(1).optional(),
});
export type DeployedAddress = z.infer<typeof DeployedAddressSchema>;

export const DeployedAddressBookSchema = z.record(z.string(), DeployedAddressSchema);
export type DeployedAddressBook = z.infer<typeof DeployedAddressBookSchema>;

/**
 * Who a node is, as a prober recorded it: from `GET /debug/v1/info` (peer id, ENR, listen
 * addresses) where it reaches REST, or from the noise handshake of a dial (peer id only) anywhere.
 */
export const NodeIdentitySchema = z.strictObject({
  nodeId: z.string().min(1),
  peerId: z.string().min(1),
  enr: z.string().startsWith('enr:').optional(),
  /** Only REST tells them; absent when the peer id was learnt by dialling. */
  listenAddresses: z.array(z.string()).optional(),
  observedAtMs: z.number().int().nonnegative(),
});
export type NodeIdentity = z.infer<typeof NodeIdentitySchema>;

/** Thrown when a node's info names no peer id: it cannot be dialled or listed. */
export class UnidentifiedNodeError extends Error {
  constructor(nodeId: string, listenAddresses: readonly string[]) {
    super(
      `${nodeId}: GET /debug/v1/info listed no address ending in /p2p/PEER_ID (got ${JSON.stringify(listenAddresses)}); check that the node runs nwaku with its REST API on`,
    );
    this.name = 'UnidentifiedNodeError';
  }
}

/** The peer id at the end of the first listen address that carries one. */
export function peerIdFromListenAddresses(addresses: readonly string[]): string | undefined {
  for (const address of addresses) {
    const match = /\/p2p\/([^/]+)$/.exec(address);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * @throws UnidentifiedNodeError when no listen address carries a peer id.
 * @example identityFromInfo(nodeId, await info(restUrl, { signal }), Date.now())
 */
export function identityFromInfo(
  nodeId: string,
  reply: { listenAddresses: string[]; enrUri?: string },
  observedAtMs: number,
): NodeIdentity {
  const peerId = peerIdFromListenAddresses(reply.listenAddresses);
  if (peerId === undefined) throw new UnidentifiedNodeError(nodeId, reply.listenAddresses);
  return NodeIdentitySchema.parse({
    nodeId,
    peerId,
    ...(reply.enrUri?.startsWith('enr:') ? { enr: reply.enrUri } : {}),
    listenAddresses: reply.listenAddresses,
    observedAtMs: Math.floor(observedAtMs),
  });
}

/** The peer id a node proved in the noise handshake of a dial to its bare TCP address. */
export function identityFromHandshake(
  nodeId: string,
  peerId: string,
  observedAtMs: number,
): NodeIdentity {
  return NodeIdentitySchema.parse({ nodeId, peerId, observedAtMs: Math.floor(observedAtMs) });
}

/**
 * `/ip4/{ip}/tcp/{tcp}` without `/p2p/`: what a prober dials to learn who listens there.
 * @example bareTcpMultiaddr(book[nodeId]) // '/ip4/203.0.113.7/tcp/30303'
 */
export function bareTcpMultiaddr(address: Pick<DeployedAddress, 'ip' | 'tcp'>): string {
  return `/${addressProtocol(address.ip)}/${address.ip}/tcp/${address.tcp}`;
}

/** The addresses of one node as fleets.json lists them. */
export interface NodeMultiaddrs {
  tcp: string;
  wss?: string;
  enr?: string;
}

/**
 * `/ip4/{ip}/tcp/{tcp}/p2p/{peer}`, plus `/dns4/{node}.{domain}/tcp/443/wss/p2p/{peer}` when the
 * fleet has a domain (browsers need TLS and a name), plus the node's ENR when it gave one.
 * @example nodeMultiaddrs({ nodeId, address: book[nodeId], identity, domain: config.registry.domain })
 */
export function nodeMultiaddrs(input: {
  nodeId: string;
  address: DeployedAddress;
  identity: Pick<NodeIdentity, 'peerId' | 'enr'>;
  domain?: string | undefined;
}): NodeMultiaddrs {
  const { address, identity } = input;
  const tcp = `${bareTcpMultiaddr(address)}/p2p/${identity.peerId}`;
  const host = address.dns4 ?? (input.domain ? `${input.nodeId}.${input.domain}` : undefined);
  const wss =
    host === undefined
      ? undefined
      : `/dns4/${host}/tcp/${address.secureWebsocket ?? DEFAULT_SECURE_WEBSOCKET_PORT}/wss/p2p/${identity.peerId}`;
  return {
    tcp,
    ...(wss === undefined ? {} : { wss }),
    ...(identity.enr === undefined ? {} : { enr: identity.enr }),
  };
}

function addressProtocol(ip: string): 'ip4' | 'ip6' | 'dns4' {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return 'ip4';
  if (ip.includes(':')) return 'ip6';
  return 'dns4';
}
