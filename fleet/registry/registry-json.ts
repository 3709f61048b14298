// Builds registry.json: every node of the fleet, listed or not, with its state, reputation and last probe.
//
// fleets.json stays in Status's format and only names nodes to use; this companion document tells
// dashboards and curious users why a node is or is not listed. It is unsigned: nothing dials from it.
import * as z from 'zod';
import { describeDialableMultiaddr, isEnrRecord } from './addresses.ts';
import { byCodeUnits, encodeRegistryDocument } from './encoding.ts';
import { InvalidRegistryError } from './errors.ts';
import type { BuiltRegistryDocument } from './fleets-json.ts';
import { describeRegistryIssues } from './issues.ts';

/** The newest probe outcome of one node, as the runtime summarises it. */
export interface RegistryProbeSummary {
  /** When the probe (or round) started, milliseconds since the epoch. */
  atMs: number;
  ok: boolean;
  /** Round trip or answer time in milliseconds, when one was measured. */
  latencyMs?: number | null;
  /** Why it failed (a ProbeErrorClass such as `timeout`), when it did. */
  errorClass?: string;
  /** Probe round number. */
  round?: number;
  /** How many vantage points reported on the node. */
  vantagePoints?: number;
}

/** One node as the runtime knows it; kept loose so that any state model can map into it. */
export interface RegistryNodeEntry {
  id: string;
  /** The node's state in the failover model, e.g. `healthy`, `suspect`, `drained`, `probation`. */
  status: string;
  /** Whether fleets.json lists the node. */
  listed: boolean;
  /** Composite score in [0, 1]; null before the node was ever measured. */
  reputation: number | null;
  /** Per-dimension scores (availability, latency, freshness, ...); null where not measured. */
  components?: Readonly<Record<string, number | null>>;
  lastProbe?: RegistryProbeSummary;
  /** One line on why the node is in its state, e.g. `drained after 2 failing rounds`. */
  reason?: string;
  addresses: { tcp?: string; wss?: string; enr?: string };
}

export interface BuildRegistryJsonInput {
  fleet: string;
  hostname: string;
  /** The same sequence as the fleets.json published with it. */
  sequence: number;
  nowMs: number;
  /** When given, `meta.expires` = nowMs + this (as in fleets.json). */
  expiresAfterSeconds?: number;
  nodes: readonly RegistryNodeEntry[];
}

const finiteOrNull = z.number().finite().nullable();
const isoTime = z.iso.datetime({ offset: true });

export const RegistryJsonNodeSchema = z.looseObject({
  status: z.string().min(1),
  listed: z.boolean(),
  reputation: finiteOrNull,
  components: z.record(z.string().min(1), finiteOrNull).optional(),
  lastProbe: z
    .looseObject({
      at: isoTime,
      ok: z.boolean(),
      latencyMs: z.number().finite().nonnegative().nullable().optional(),
      errorClass: z.string().min(1).optional(),
      round: z.number().int().nonnegative().optional(),
      vantagePoints: z.number().int().nonnegative().optional(),
    })
    .optional(),
  reason: z.string().optional(),
  addresses: z.looseObject({
    tcp: z.string().optional(),
    wss: z.string().optional(),
    enr: z.string().optional(),
  }),
});

export const RegistryJsonSchema = z.looseObject({
  meta: z.looseObject({
    fleet: z.string().min(1),
    hostname: z.string().min(1),
    timestamp: isoTime,
    sequence: z.number().int().nonnegative(),
    expires: isoTime.optional(),
  }),
  nodes: z.record(z.string().min(1), RegistryJsonNodeSchema),
});
export type RegistryJson = z.output<typeof RegistryJsonSchema>;
export type RegistryJsonNode = z.output<typeof RegistryJsonNodeSchema>;

export function parseRegistryJson(input: unknown, source = 'registry.json'): RegistryJson {
  const result = RegistryJsonSchema.safeParse(input);
  if (!result.success)
    throw new InvalidRegistryError(describeRegistryIssues(result.error, input), source);
  return result.data;
}

function isFiniteOrNull(value: number | null | undefined): boolean {
  return value === null || value === undefined || Number.isFinite(value);
}

function checkEntries(nodes: readonly RegistryNodeEntry[]): string[] {
  const issues: string[] = [];
  const seen = new Set<string>();
  nodes.forEach((node, i) => {
    const at = `nodes[${i}]`;
    if (!/^\S+$/.test(node.id))
      issues.push(`${at}.id: got ${JSON.stringify(node.id)}; expected a node name without blanks`);
    if (seen.has(node.id))
      issues.push(`${at}.id: "${node.id}" appears twice; expected each node once`);
    seen.add(node.id);
    if (node.status.length === 0) issues.push(`${at}.status: got ""; expected a state name`);
    if (!isFiniteOrNull(node.reputation))
      issues.push(`${at}.reputation: got ${node.reputation}; expected a finite number or null`);
    for (const [name, score] of Object.entries(node.components ?? {})) {
      if (!isFiniteOrNull(score))
        issues.push(`${at}.components.${name}: got ${score}; expected a finite number or null`);
    }
    const probe = node.lastProbe;
    if (probe && (!Number.isSafeInteger(probe.atMs) || probe.atMs < 0))
      issues.push(`${at}.lastProbe.atMs: got ${probe.atMs}; expected milliseconds since the epoch`);
    if (probe && !isFiniteOrNull(probe.latencyMs))
      issues.push(`${at}.lastProbe.latencyMs: got ${probe.latencyMs}; expected a finite number`);
    for (const transport of ['tcp', 'wss'] as const) {
      const address = node.addresses[transport];
      const problem =
        address === undefined ? undefined : describeDialableMultiaddr(address, transport);
      if (problem)
        issues.push(`${at}.addresses.${transport}: got ${JSON.stringify(address)}; ${problem}`);
    }
    if (node.addresses.enr !== undefined && !isEnrRecord(node.addresses.enr))
      issues.push(
        `${at}.addresses.enr: got ${JSON.stringify(node.addresses.enr)}; expected an enr: record`,
      );
    if (node.listed && node.addresses.tcp === undefined)
      issues.push(`${at}.addresses.tcp: a listed node needs the TCP address clients dial`);
  });
  return issues;
}

/** Drops undefined fields so that absent and undefined produce the same bytes. */
function defined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}

function toDocumentNode(node: RegistryNodeEntry): RegistryJsonNode {
  const components =
    node.components === undefined
      ? undefined
      : Object.fromEntries(
          Object.keys(node.components)
            .sort(byCodeUnits)
            .map((name) => [name, node.components?.[name] ?? null]),
        );
  const probe = node.lastProbe;
  return defined({
    status: node.status,
    listed: node.listed,
    reputation: node.reputation,
    components,
    lastProbe:
      probe === undefined
        ? undefined
        : defined({
            at: new Date(probe.atMs).toISOString(),
            ok: probe.ok,
            latencyMs: probe.latencyMs,
            errorClass: probe.errorClass,
            round: probe.round,
            vantagePoints: probe.vantagePoints,
          }),
    reason: node.reason,
    addresses: defined({
      tcp: node.addresses.tcp,
      wss: node.addresses.wss,
      enr: node.addresses.enr,
    }),
  });
}

/**
 * Builds registry.json with every node, sorted by name, in a fixed key order.
 * @throws InvalidRegistryError when an entry is malformed (duplicate id, non-finite score, bad address).
 * @example
 * const { bytes } = buildRegistryJson({ fleet: 'status.prod', hostname: 'storefleet', sequence: 42, nowMs, nodes });
 */
export function buildRegistryJson(
  input: BuildRegistryJsonInput,
): BuiltRegistryDocument<RegistryJson> {
  const issues = checkEntries(input.nodes);
  if (!Number.isSafeInteger(input.sequence) || input.sequence < 1)
    issues.push(`sequence: got ${input.sequence}; expected a positive integer`);
  if (!Number.isSafeInteger(input.nowMs) || input.nowMs < 0)
    issues.push(`nowMs: got ${input.nowMs}; expected milliseconds since the epoch`);
  if (input.expiresAfterSeconds !== undefined && !(input.expiresAfterSeconds > 0))
    issues.push(
      `expiresAfterSeconds: got ${input.expiresAfterSeconds}; expected a positive number`,
    );
  if (issues.length > 0)
    throw new InvalidRegistryError(issues, `registry.json input for ${input.fleet}`);

  const nodes = [...input.nodes].sort((a, b) => byCodeUnits(a.id, b.id));
  const candidate = {
    meta: defined({
      fleet: input.fleet,
      hostname: input.hostname,
      timestamp: new Date(input.nowMs).toISOString(),
      sequence: input.sequence,
      expires:
        input.expiresAfterSeconds === undefined
          ? undefined
          : new Date(input.nowMs + input.expiresAfterSeconds * 1000).toISOString(),
    }),
    nodes: Object.fromEntries(nodes.map((node) => [node.id, toDocumentNode(node)])),
  };
  const document = parseRegistryJson(candidate, `registry.json for ${input.fleet}`);
  return { document, bytes: encodeRegistryDocument(candidate) };
}
