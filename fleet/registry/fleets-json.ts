// Builds the fleets.json clients fetch, in Status's format, from the nodes the fleet currently lists.
import { describeDialableMultiaddr, isEnrRecord } from './addresses.ts';
import { byCodeUnits, encodeRegistryDocument } from './encoding.ts';
import { EmptyRegistryError, InvalidRegistryError } from './errors.ts';
import { type FleetsJson, parseFleetsJson } from './fleets-json-schema.ts';

/** Kinds a storefleet fleets.json carries, in the order they are written. */
export const FLEETS_JSON_KINDS = {
  /** Read by clients that predate the per-role split (status-go's update script, older desktop). */
  tcp: 'tcp/p2p/waku',
  tcpStore: 'tcp/p2p/waku/store',
  wssStore: 'wss/p2p/waku/store',
  enrStore: 'enr/p2p/waku/store',
  /** Boot nodes, passed through from config: status-desktop read these for status.prod and status.staging. */
  tcpBoot: 'tcp/p2p/waku/boot',
  enrBoot: 'enr/p2p/waku/boot',
} as const;

/** A boot node as the config names it (it runs no store, so it is never probed into the listing). */
export interface BootNode {
  tcp: string;
  enr?: string | undefined;
}

/** A node clients should use, with the addresses they dial. */
export interface ListedNode {
  /** Node name as clients see it, e.g. `store-01.do-ams3.status.prod`. */
  id: string;
  /** TCP multiaddr ending in `/p2p/PEER_ID`. */
  tcp: string;
  /** Secure websocket multiaddr for browsers, when the node has one. */
  wss?: string;
  /** The node's ENR (`enr:-...`), when known. */
  enr?: string;
}

export interface BuildFleetsJsonInput {
  /** Fleet name, the key under `fleets` (e.g. `status.prod`). */
  fleet: string;
  /** `meta.hostname`: who published this version. */
  hostname: string;
  /** `meta.sequence`: strictly greater than the last published one. */
  sequence: number;
  /** Publication time, milliseconds since the epoch (`meta.timestamp`). */
  nowMs: number;
  /** `meta.expires` = nowMs + this. */
  expiresAfterSeconds: number;
  nodes: readonly ListedNode[];
  /** The fleet's boot nodes by name, written under the `.../boot` kinds. */
  bootNodes?: Readonly<Record<string, BootNode>> | undefined;
  /** Other fleets, `{KIND: {NAME: ADDRESS}}` each, written as given beside this one. */
  otherFleets?: Readonly<
    Record<string, Readonly<Record<string, Readonly<Record<string, string>>>>>
  >;
}

export interface BuiltRegistryDocument<Document> {
  document: Document;
  /** The exact bytes to publish and sign. */
  bytes: Uint8Array;
}

/** The largest time a Date can hold (year 275760). */
const MAX_TIME_MS = 8.64e15;

function checkInput(input: BuildFleetsJsonInput): string[] {
  const issues: string[] = [];
  if (!Number.isSafeInteger(input.sequence) || input.sequence < 1)
    issues.push(`sequence: got ${input.sequence}; expected a positive integer`);
  if (!Number.isSafeInteger(input.nowMs) || input.nowMs < 0 || input.nowMs > MAX_TIME_MS)
    issues.push(`nowMs: got ${input.nowMs}; expected milliseconds since the epoch`);
  if (
    !Number.isFinite(input.expiresAfterSeconds) ||
    input.expiresAfterSeconds <= 0 ||
    input.nowMs + input.expiresAfterSeconds * 1000 > MAX_TIME_MS
  )
    issues.push(
      `expiresAfterSeconds: got ${input.expiresAfterSeconds}; expected a positive number`,
    );
  if (!/^\S+$/.test(input.fleet))
    issues.push(
      `fleet: got ${JSON.stringify(input.fleet)}; expected a fleet name such as status.prod`,
    );
  if (input.hostname.length === 0)
    issues.push('hostname: got ""; expected the publishing host name');
  const seen = new Set<string>();
  input.nodes.forEach((node, i) => {
    const at = `nodes[${i}]`;
    if (!/^\S+$/.test(node.id))
      issues.push(`${at}.id: got ${JSON.stringify(node.id)}; expected a node name without blanks`);
    if (seen.has(node.id))
      issues.push(`${at}.id: "${node.id}" is listed twice; expected each node once`);
    seen.add(node.id);
    const tcpProblem = describeDialableMultiaddr(node.tcp, 'tcp');
    if (tcpProblem) issues.push(`${at}.tcp: got ${JSON.stringify(node.tcp)}; ${tcpProblem}`);
    if (node.wss !== undefined) {
      const wssProblem = describeDialableMultiaddr(node.wss, 'wss');
      if (wssProblem) issues.push(`${at}.wss: got ${JSON.stringify(node.wss)}; ${wssProblem}`);
    }
    if (node.enr !== undefined && !isEnrRecord(node.enr))
      issues.push(`${at}.enr: got ${JSON.stringify(node.enr)}; expected an enr: record`);
  });
  return issues;
}

/**
 * Builds fleets.json for one fleet: every listed node under `tcp/p2p/waku/store` (and its websocket and
 * ENR forms where known) and under `tcp/p2p/waku` for clients without the per-role split; boot nodes
 * from config under `tcp/p2p/waku/boot` and `enr/p2p/waku/boot`; other fleets of the config as given. Kinds with
 * no address are left out; nothing but addresses goes inside `fleets`, because clients may reject
 * unknown kinds. Node names are sorted, so the bytes depend on the input's content only.
 *
 * @throws EmptyRegistryError when `nodes` is empty.
 * @throws InvalidRegistryError when a node, address or meta field is malformed.
 * @example
 * const { bytes } = buildFleetsJson({
 *   fleet: 'status.prod', hostname: 'storefleet', sequence: 42, nowMs, expiresAfterSeconds: 900,
 *   nodes: [{ id: 'store-01.do-ams3.status.prod', tcp: '/dns4/store-01.example.org/tcp/30303/p2p/16Uiu2HAm...' }],
 * });
 */
export function buildFleetsJson(input: BuildFleetsJsonInput): BuiltRegistryDocument<FleetsJson> {
  if (input.nodes.length === 0) throw new EmptyRegistryError(input.fleet);
  const issues = checkInput(input);
  if (issues.length > 0)
    throw new InvalidRegistryError(issues, `fleets.json input for ${input.fleet}`);

  const nodes = [...input.nodes].sort((a, b) => byCodeUnits(a.id, b.id));
  const table = (address: (node: ListedNode) => string | undefined): Record<string, string> => {
    const entries: Record<string, string> = {};
    for (const node of nodes) {
      const value = address(node);
      if (value !== undefined) entries[node.id] = value;
    }
    return entries;
  };
  const bootNames = Object.keys(input.bootNodes ?? {}).sort(byCodeUnits);
  const bootTable = (address: (node: BootNode) => string | undefined): Record<string, string> => {
    const entries: Record<string, string> = {};
    for (const name of bootNames) {
      const value = address(input.bootNodes?.[name] as BootNode);
      if (value !== undefined) entries[name] = value;
    }
    return entries;
  };
  const kinds: Record<string, Record<string, string>> = {
    [FLEETS_JSON_KINDS.tcp]: table((node) => node.tcp),
    [FLEETS_JSON_KINDS.tcpStore]: table((node) => node.tcp),
    [FLEETS_JSON_KINDS.wssStore]: table((node) => node.wss),
    [FLEETS_JSON_KINDS.enrStore]: table((node) => node.enr),
    [FLEETS_JSON_KINDS.tcpBoot]: bootTable((node) => node.tcp),
    [FLEETS_JSON_KINDS.enrBoot]: bootTable((node) => node.enr),
  };
  const fleet = Object.fromEntries(
    Object.entries(kinds).filter(([, entries]) => Object.keys(entries).length > 0),
  );
  const others = Object.keys(input.otherFleets ?? {})
    .filter((name) => name !== input.fleet)
    .sort(byCodeUnits)
    .map(
      (name) =>
        [name, input.otherFleets?.[name] as Record<string, Record<string, string>>] as const,
    );
  const candidate = {
    meta: {
      hostname: input.hostname,
      timestamp: new Date(input.nowMs).toISOString(),
      sequence: input.sequence,
      expires: new Date(input.nowMs + input.expiresAfterSeconds * 1000).toISOString(),
    },
    // A reader that expects a fleet (status-desktop raised KeyError) finds every fleet of the config.
    fleets: Object.fromEntries([[input.fleet, fleet], ...others]) as Record<
      string,
      Record<string, Record<string, string>>
    >,
  };
  // Guards the builder against drifting from the format it claims to produce.
  parseFleetsJson(candidate, `fleets.json for ${input.fleet}`);
  return { document: candidate, bytes: encodeRegistryDocument(candidate) };
}

/** Every address under every fleet and kind: zero means the registry would leave clients with nothing. */
export function countAddresses(document: FleetsJson): number {
  let count = 0;
  for (const kinds of Object.values(document.fleets)) {
    for (const nodes of Object.values(kinds)) count += Object.keys(nodes).length;
  }
  return count;
}
