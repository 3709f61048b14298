// Fleets and nodes in the shape of Status's fleets.json, generated here (never copied from real files).
import { createHash } from 'node:crypto';
import type { ListedNode } from '../../../fleet/registry/fleets-json.ts';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Deterministic bytes from a label, so fixtures are stable across runs. */
function bytesFor(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let block = 0;
  for (let filled = 0; filled < length; block++) {
    const digest = createHash('sha256').update(`${label}/${block}`).digest();
    out.set(digest.subarray(0, Math.min(digest.length, length - filled)), filled);
    filled += digest.length;
  }
  return out;
}

function encodeWith(alphabet: string, bytes: Uint8Array): string {
  return [...bytes].map((byte) => alphabet[byte % alphabet.length]).join('');
}

/** A secp256k1-style libp2p peer id, `16Uiu2HAm` + 44 base58 characters, as nwaku nodes have. */
export function peerIdFor(label: string): string {
  return `16Uiu2HAm${encodeWith(BASE58, bytesFor(`peer/${label}`, 44))}`;
}

export function enrFor(label: string): string {
  return `enr:-QE${encodeWith(BASE64URL, bytesFor(`enr/${label}`, 180))}`;
}

export function enodeFor(label: string, host: string, port: number): string {
  return `enode://${Buffer.from(bytesFor(`enode/${label}`, 64)).toString('hex')}@${host}:${port}`;
}

/** A store node of `fleet` at `/dns4/{id}.{domain}`, with TCP, secure websocket and ENR. */
export function listedNode(
  role: string,
  index: number,
  location: string,
  fleet: string,
  domain = 'example.org',
): ListedNode {
  const id = `${role}-${String(index).padStart(2, '0')}.${location}.${fleet}`;
  const peer = peerIdFor(id);
  return {
    id,
    tcp: `/dns4/${id}.${domain}/tcp/30303/p2p/${peer}`,
    wss: `/dns4/${id}.${domain}/tcp/443/wss/p2p/${peer}`,
    enr: enrFor(id),
  };
}

export const LOCATIONS = ['do-ams3', 'gc-us-central1-a', 'ac-cn-hongkong-c'] as const;

/** Six store nodes, two per location, as status.prod has. */
export function sixStoreNodes(fleet = 'status.prod'): ListedNode[] {
  return LOCATIONS.flatMap((location) =>
    [1, 2].map((i) => listedNode('store', i, location, fleet)),
  );
}

/**
 * A fleets.json in the shape Status published in 2024: a legacy Whisper fleet with enode:// kinds,
 * fleets without the per-role split, one with it, and one with enode:// under tcp/p2p/waku.
 */
export interface StatusShapedFleetsJson {
  meta: Record<string, unknown>;
  fleets: Record<string, Record<string, Record<string, unknown>>>;
}

export function statusShapedFleetsJson(): StatusShapedFleetsJson {
  const legacy = (role: string, count: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, i) => {
        const id = `${role}-0${i + 1}.do-ams3.eth.prod`;
        return [id, enodeFor(id, `178.128.${i + 1}.${i + 10}`, 443)];
      }),
    );
  const unsplit = (fleet: string) => {
    const nodes = LOCATIONS.map((location) => listedNode('node', 1, location, fleet, 'status.im'));
    return {
      'tcp/p2p/waku': Object.fromEntries(nodes.map((node) => [node.id, node.tcp])),
      'enr/p2p/waku': Object.fromEntries(nodes.map((node) => [node.id, node.enr])),
      'wss/p2p/waku': Object.fromEntries(nodes.map((node) => [node.id, node.wss])),
    };
  };
  const boots = LOCATIONS.map((location) => listedNode('boot', 1, location, 'shards.test'));
  const stores = sixStoreNodes('shards.test');
  const table = (nodes: ListedNode[], pick: (node: ListedNode) => string | undefined) =>
    Object.fromEntries(nodes.map((node) => [node.id, pick(node)]));
  return {
    meta: {
      hostname: 'node-01.do-ams3.sites.misc',
      timestamp: '2024-06-01T00:00:31.123456',
      warning: 'Auto generated from Consul. Should only be used at build time.',
    },
    fleets: {
      'eth.prod': {
        boot: legacy('boot', 2),
        mail: legacy('mail', 3),
        whisper: legacy('node', 4),
        rendezvous: {
          'boot-01.do-ams3.eth.prod': `/ip4/174.138.105.243/tcp/30703/ethv4/${peerIdFor('rdv')}`,
        },
      },
      'waku.sandbox': unsplit('waku.sandbox'),
      'shards.test': {
        'tcp/p2p/waku/boot': table(boots, (node) => node.tcp),
        'enr/p2p/waku/boot': table(boots, (node) => node.enr),
        'wss/p2p/waku/boot': table(boots, (node) => node.wss),
        'tcp/p2p/waku/store': table(stores, (node) => node.tcp),
        'enr/p2p/waku/store': table(stores, (node) => node.enr),
        'wss/p2p/waku/store': table(stores, (node) => node.wss),
      },
      'notify.prod': {
        'tcp/p2p/waku': {
          'node-01.do-ams3.notify.prod': enodeFor('notify', '178.128.139.80', 1443),
        },
      },
    },
  };
}
