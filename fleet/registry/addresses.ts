// Recognises the three address forms found in Status's fleets.json: multiaddrs, enode:// URLs and enr: records.
//
// The checks are syntactic on purpose: a registry validator must accept every real file (including
// legacy kinds such as `/ip4/.../ethv4/...`) and only catch what no client could ever dial.

export type RegistryAddressForm = 'multiaddr' | 'enode' | 'enr';

/** Multiaddr protocols that take no value; every other protocol name is followed by one value. */
const VALUELESS_PROTOCOLS = new Set([
  'ws',
  'wss',
  'tls',
  'noise',
  'quic',
  'quic-v1',
  'webtransport',
  'webrtc',
  'webrtc-direct',
  'p2p-circuit',
  'p2p-webrtc-star',
  'p2p-webrtc-direct',
  'p2p-websocket-star',
  'http',
  'https',
  'utp',
  'udt',
]);
/** A dialable multiaddr starts with where the host is. */
const HOST_PROTOCOLS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr']);
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'dccp']);
const PROTOCOL_NAME = /^[a-z][a-z0-9-]*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$/;
const DNS_NAME =
  /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;
/** Base58btc (legacy `Qm...`, `12D3...`, `16Uiu2...`) or a multibase base32 CID (`bafz...`). */
const PEER_ID = /^([1-9A-HJ-NP-Za-km-z]{30,}|b[a-z2-7]{40,})$/;
const ENODE =
  /^enode:\/\/[0-9a-fA-F]{128}@([^\s:/@]+|\[[0-9a-fA-F:.]+\]):\d{1,5}(\?discport=\d{1,5})?$/;
/** EIP-778 text form: `enr:` then the RLP record in unpadded base64url. */
const ENR = /^enr:[A-Za-z0-9_-]{8,}$/;
const MAX_ADDRESS_LENGTH = 2048;

function isPort(value: string): boolean {
  return /^\d{1,5}$/.test(value) && Number(value) <= 65535;
}

/** The multiaddr's protocols and values, or why it is not one. */
export function parseMultiaddr(
  address: string,
):
  | { ok: true; parts: Array<[protocol: string, value: string | undefined]> }
  | { ok: false; reason: string } {
  if (!address.startsWith('/')) return { ok: false, reason: 'does not start with /' };
  if (address.length > MAX_ADDRESS_LENGTH) return { ok: false, reason: 'is too long' };
  const segments = address.slice(1).split('/');
  if (segments.some((segment) => segment === '' || /\s/.test(segment)))
    return { ok: false, reason: 'has an empty or blank segment' };
  const parts: Array<[string, string | undefined]> = [];
  for (let i = 0; i < segments.length; ) {
    const protocol = segments[i] as string;
    if (!PROTOCOL_NAME.test(protocol))
      return { ok: false, reason: `"${protocol}" is not a protocol name` };
    if (VALUELESS_PROTOCOLS.has(protocol)) {
      parts.push([protocol, undefined]);
      i += 1;
      continue;
    }
    const value = segments[i + 1];
    if (value === undefined) return { ok: false, reason: `/${protocol} has no value` };
    parts.push([protocol, value]);
    i += 2;
  }
  const [first] = parts;
  if (!first || !HOST_PROTOCOLS.has(first[0]))
    return { ok: false, reason: 'does not start with /ip4, /ip6, /dns, /dns4, /dns6 or /dnsaddr' };
  for (const [protocol, value] of parts) {
    if (value === undefined) continue;
    if (protocol === 'ip4' && !IPV4.test(value))
      return { ok: false, reason: `"${value}" is not an IPv4 address` };
    if (protocol === 'ip6' && !IPV6.test(value))
      return { ok: false, reason: `"${value}" is not an IPv6 address` };
    if (protocol.startsWith('dns') && !DNS_NAME.test(value))
      return { ok: false, reason: `"${value}" is not a DNS name` };
    if (PORT_PROTOCOLS.has(protocol) && !isPort(value))
      return { ok: false, reason: `"${value}" is not a port` };
    if ((protocol === 'p2p' || protocol === 'ipfs') && !PEER_ID.test(value))
      return { ok: false, reason: `"${value}" is not a peer id` };
  }
  return { ok: true, parts };
}

export function addressForm(address: string): RegistryAddressForm | undefined {
  if (address.startsWith('/')) return parseMultiaddr(address).ok ? 'multiaddr' : undefined;
  if (address.startsWith('enode://')) return ENODE.test(address) ? 'enode' : undefined;
  if (address.startsWith('enr:')) return ENR.test(address) ? 'enr' : undefined;
  return undefined;
}

/** A multiaddr a libp2p client can dial and authenticate: has a transport port and ends in /p2p/PEER_ID. */
export function describeDialableMultiaddr(
  address: string,
  transport: 'tcp' | 'wss',
): string | undefined {
  const parsed = parseMultiaddr(address);
  if (!parsed.ok) return `not a multiaddr: ${parsed.reason}`;
  const protocols = parsed.parts.map(([protocol]) => protocol);
  const last = parsed.parts.at(-1);
  if (last?.[0] !== 'p2p') return 'expected it to end in /p2p/PEER_ID';
  if (!protocols.includes('tcp')) return 'expected a /tcp/PORT part';
  const secure =
    protocols.includes('wss') || (protocols.includes('tls') && protocols.includes('ws'));
  if (transport === 'wss' && !secure) return 'expected a secure websocket (/wss or /tls/ws)';
  if (transport === 'tcp' && (protocols.includes('ws') || protocols.includes('wss')))
    return 'expected plain TCP, found a websocket part';
  return undefined;
}

export function isEnrRecord(address: string): boolean {
  return ENR.test(address);
}
