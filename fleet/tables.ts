// DynamoDB key schema shared by the CDK tables and the state store adapter, so the two cannot drift apart.

/**
 * Both tables use the same generic shape: a string partition key `pk`, a string sort key `sk`,
 * on-demand billing, and time-to-live on `expiresAt` (epoch seconds). Item kinds are told apart
 * by key prefixes, so a new kind of record needs no table change.
 */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; enable DynamoDB TTL on this attribute. */
  timeToLiveAttribute: 'expiresAt',
} as const;

/** Attribute types as CloudFormation spells them (AttributeDefinitions). */
export const TABLE_KEY_TYPES = { pk: 'S', sk: 'S' } as const;

/*
 * The probe results table holds probe rounds, completeness results and stress summaries:
 * append-only observations that expire. The node state table holds the fleet state document
 * (versioned, never expires) and the failover action ledger (claims that expire: it needs TTL too).
 */

/** Observations older than this are deleted by TTL unless the deployment chooses otherwise. */
export const DEFAULT_OBSERVATION_RETENTION_SECONDS = 14 * 24 * 3600;

/** How long a claimed failover action stays claimed; longer than any retry of one controller run. */
export const DEFAULT_ACTION_CLAIM_TTL_SECONDS = 7 * 24 * 3600;

/** Width of zero-padded numbers in sort keys, so that string order equals numeric order. */
const SORTABLE_NUMBER_DIGITS = 16;

export function sortableNumber(value: number): string {
  return String(Math.trunc(value)).padStart(SORTABLE_NUMBER_DIGITS, '0');
}

/**
 * Key builders: the only place that spells the key prefixes. Every key starts with the fleet name
 * so that several fleets can share a pair of tables.
 */
export const tableKeys = {
  fleetState: (fleet: string) => ({ pk: `${fleet}#state`, sk: 'state' }),
  actionClaim: (fleet: string, idempotencyKey: string) => ({
    pk: `${fleet}#action#${idempotencyKey}`,
    sk: 'claim',
  }),
  /**
   * Powertools Idempotency records of one function: its persistence layer writes the hash of each
   * request as the sort key under this fixed partition, with its expiry in `expiresAt`.
   */
  idempotencyPartition: (fleet: string, functionName: string) =>
    `${fleet}#idempotency#${functionName}`,
  /** All vantage points' reports of one round share a partition: one Query reads the round. */
  probeRound: (fleet: string, round: number, vantageId: string) => ({
    pk: `${fleet}#round#${sortableNumber(round)}`,
    sk: `vantage#${vantageId}`,
  }),
  probeRoundPartition: (fleet: string, round: number) => `${fleet}#round#${sortableNumber(round)}`,
  /** Per node, newest last: a Query with ScanIndexForward=false reads a node's recent results. */
  completeness: (fleet: string, nodeId: string, windowEndMs: number, vantageId: string) => ({
    pk: `${fleet}#completeness#${nodeId}`,
    sk: `${sortableNumber(windowEndMs)}#${vantageId}`,
  }),
  stress: (fleet: string, nodeId: string, finishedAtMs: number) => ({
    pk: `${fleet}#stress#${nodeId}`,
    sk: sortableNumber(finishedAtMs),
  }),
  /**
   * What a node said about itself (peer id, ENR, listen addresses), in the probe results table
   * without expiry: node keys are secrets generated at deploy time, so probers learn them at run time.
   */
  nodeIdentity: (fleet: string, nodeId: string) => ({
    pk: `${fleet}#identity`,
    sk: `node#${nodeId}`,
  }),
  nodeIdentityPartition: (fleet: string) => `${fleet}#identity`,
  /** Operator overrides (nodes drained by hand), in the node state table; never expire. */
  operatorOverrides: (fleet: string) => ({ pk: `${fleet}#operator`, sk: 'overrides' }),
  /** The last registry version a publisher wrote: its sequence, listed set and time; never expires. */
  registryPublication: (fleet: string) => ({ pk: `${fleet}#registry`, sk: 'publication' }),
} as const;
