// StateStore on DynamoDB: a versioned fleet state document, expiring observations and the failover action ledger.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import { describeIssues } from '../../fleet/config.ts';
import {
  type CompletenessResult,
  type ProbeRound,
  ProbeRoundSchema,
  type StressSummary,
} from '../../fleet/observations.ts';
import { StaleStateError, type StateStore } from '../../fleet/ports.ts';
import {
  DEFAULT_ACTION_CLAIM_TTL_SECONDS,
  DEFAULT_OBSERVATION_RETENTION_SECONDS,
  TABLE_KEYS,
  tableKeys,
} from '../../fleet/tables.ts';
import { AwsCallError, awsErrorName, callAws } from './aws-call-error.ts';

/** DynamoDB refuses items above 400 KB; we check first so the error can say which record was too big. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** BatchWriteItem accepts at most 25 requests. */
const BATCH_WRITE_MAX_ITEMS = 25;
const BATCH_WRITE_MAX_ATTEMPTS = 5;
const BATCH_WRITE_RETRY_BASE_DELAY_MS = 50;

const defaultDocumentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

export interface DynamoStateStoreProps<S> {
  /** Fleet name; every key is prefixed with it so several fleets may share the tables. */
  fleet: string;
  /** Table holding the fleet state document and the action claims (TTL on `expiresAt`). */
  nodeStateTableName: string;
  /** Table holding probe rounds, completeness results and stress summaries (TTL on `expiresAt`). */
  probeResultsTableName: string;
  /**
   * Swappable for tests and for clients with a custom endpoint or region.
   * @default a module-scope DynamoDBDocumentClient using the Lambda's region and role
   */
  client?: DynamoDBDocumentClient;
  /**
   * Validates the fleet state when it is loaded and before it is saved.
   * @default no validation: the stored JSON is trusted
   */
  stateSchema?: z.ZodType<S>;
  /**
   * How long observations are kept before DynamoDB TTL deletes them, counted from the
   * observation's own timestamp.
   * @default DEFAULT_OBSERVATION_RETENTION_SECONDS (14 days)
   */
  observationRetentionSeconds?: number;
  /**
   * How long a claimed action stays claimed; a claim older than this may be taken again.
   * @default DEFAULT_ACTION_CLAIM_TTL_SECONDS (7 days)
   */
  actionClaimTtlSeconds?: number;
}

/** A stored record could not be read back as the type the control loop expects. */
export class StoredRecordError extends Error {
  constructor(where: string, problems: readonly string[]) {
    super(
      `${where} does not match the expected shape (written by an older or newer version?):\n${problems
        .map((line) => `  - ${line}`)
        .join('\n')}`,
    );
    this.name = 'StoredRecordError';
  }
}

/**
 * @example
 * const store = new DynamoStateStore<FleetState>({
 *   fleet: config.fleet,
 *   nodeStateTableName: process.env.NODE_STATE_TABLE!,
 *   probeResultsTableName: process.env.PROBE_RESULTS_TABLE!,
 *   stateSchema: FleetStateSchema,
 * });
 * const { state, version } = await store.loadFleetState();
 * await store.saveFleetState(next, version); // throws StaleStateError if another run saved first
 */
export class DynamoStateStore<S> implements StateStore<S> {
  readonly #fleet: string;
  readonly #stateTable: string;
  readonly #probeResultsTable: string;
  readonly #client: DynamoDBDocumentClient;
  readonly #schema: z.ZodType<S> | undefined;
  readonly #retentionSeconds: number;
  readonly #claimTtlSeconds: number;

  constructor(props: DynamoStateStoreProps<S>) {
    this.#fleet = props.fleet;
    this.#stateTable = props.nodeStateTableName;
    this.#probeResultsTable = props.probeResultsTableName;
    this.#client = props.client ?? defaultDocumentClient;
    this.#schema = props.stateSchema;
    this.#retentionSeconds =
      props.observationRetentionSeconds ?? DEFAULT_OBSERVATION_RETENTION_SECONDS;
    this.#claimTtlSeconds = props.actionClaimTtlSeconds ?? DEFAULT_ACTION_CLAIM_TTL_SECONDS;
  }

  async loadFleetState(): Promise<{ state: S | undefined; version: number }> {
    const key = tableKeys.fleetState(this.#fleet);
    const output = await callAws(this.#target('dynamodb:GetItem', this.#stateTable), () =>
      this.#client.send(
        new GetCommand({ TableName: this.#stateTable, Key: key, ConsistentRead: true }),
      ),
    );
    const item = output.Item;
    if (!item) return { state: undefined, version: 0 };
    const where = `fleet state "${key.pk}" in table "${this.#stateTable}"`;
    const version = item['version'];
    if (typeof version !== 'number' || typeof item['state'] !== 'string') {
      throw new StoredRecordError(where, [
        'expected a numeric "version" and a JSON string "state"',
      ]);
    }
    return { state: this.#validateState(parseStoredJson(item['state'], where), where), version };
  }

  async saveFleetState(state: S, expectedVersion: number): Promise<number> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new RangeError(
        `expectedVersion must be the version loadFleetState returned (an integer >= 0); got ${expectedVersion}`,
      );
    }
    const key = tableKeys.fleetState(this.#fleet);
    const where = `fleet state "${key.pk}" in table "${this.#stateTable}"`;
    const body = JSON.stringify(this.#validateState(state, where));
    const version = expectedVersion + 1;
    assertItemFits(body, where);
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#stateTable,
          Item: { ...key, version, state: body },
          // Version 0 means "never saved": the item must not exist yet.
          ConditionExpression:
            expectedVersion === 0 ? 'attribute_not_exists(#pk)' : '#version = :expected',
          ExpressionAttributeNames:
            expectedVersion === 0 ? { '#pk': TABLE_KEYS.partitionKey } : { '#version': 'version' },
          ExpressionAttributeValues:
            expectedVersion === 0 ? undefined : { ':expected': expectedVersion },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new StaleStateError(where, expectedVersion);
      throw new AwsCallError(this.#target('dynamodb:PutItem', this.#stateTable), error);
    }
    return version;
  }

  async recordProbeRound(round: ProbeRound): Promise<void> {
    const key = tableKeys.probeRound(this.#fleet, round.round, round.vantageId);
    const body = JSON.stringify(round);
    assertItemFits(body, `probe round ${round.round} from "${round.vantageId}"`);
    // A retried report overwrites the identical item, which keeps recording idempotent.
    await this.#putObservation({
      ...key,
      round: round.round,
      vantageId: round.vantageId,
      body,
      expiresAt: this.#observationExpiry(round.finishedAtMs),
    });
  }

  async probeRounds(round: number): Promise<ProbeRound[]> {
    const partition = tableKeys.probeRoundPartition(this.#fleet, round);
    const rounds: ProbeRound[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await callAws(this.#target('dynamodb:Query', this.#probeResultsTable), () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#probeResultsTable,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
            ExpressionAttributeValues: { ':pk': partition },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const where = `probe round item "${item['pk']}"/"${item['sk']}" in table "${this.#probeResultsTable}"`;
        const input: unknown = parseStoredJson(item['body'], where);
        const parsed = ProbeRoundSchema.safeParse(input);
        if (!parsed.success)
          throw new StoredRecordError(where, describeIssues(parsed.error, input));
        rounds.push(parsed.data);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return rounds;
  }

  async recordCompleteness(results: readonly CompletenessResult[]): Promise<void> {
    const items = results.map((result) => {
      const body = JSON.stringify(result);
      assertItemFits(body, `completeness of "${result.nodeId}"`);
      return {
        ...tableKeys.completeness(this.#fleet, result.nodeId, result.windowEndMs, result.vantageId),
        nodeId: result.nodeId,
        body,
        expiresAt: this.#observationExpiry(result.windowEndMs),
      };
    });
    for (let start = 0; start < items.length; start += BATCH_WRITE_MAX_ITEMS) {
      await this.#batchPut(items.slice(start, start + BATCH_WRITE_MAX_ITEMS));
    }
  }

  async recordStress(summary: StressSummary): Promise<void> {
    await this.#putObservation({
      ...tableKeys.stress(this.#fleet, summary.nodeId, summary.finishedAtMs),
      nodeId: summary.nodeId,
      body: JSON.stringify(summary),
      expiresAt: this.#observationExpiry(summary.finishedAtMs),
    });
  }

  async claimAction(idempotencyKey: string, nowMs: number): Promise<boolean> {
    const nowSeconds = Math.floor(nowMs / 1000);
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#stateTable,
          Item: {
            ...tableKeys.actionClaim(this.#fleet, idempotencyKey),
            claimedAtMs: nowMs,
            expiresAt: nowSeconds + this.#claimTtlSeconds,
          },
          // TTL deletes lazily (up to days late), so an expired claim still present counts as free.
          ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt <= :now',
          ExpressionAttributeNames: {
            '#pk': TABLE_KEYS.partitionKey,
            '#expiresAt': TABLE_KEYS.timeToLiveAttribute,
          },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw new AwsCallError(this.#target('dynamodb:PutItem', this.#stateTable), error);
    }
  }

  #validateState(input: unknown, where: string): S {
    if (!this.#schema) return input as S;
    const parsed = this.#schema.safeParse(input);
    if (!parsed.success) throw new StoredRecordError(where, describeIssues(parsed.error, input));
    return parsed.data;
  }

  #observationExpiry(timestampMs: number): number {
    return Math.floor(timestampMs / 1000) + this.#retentionSeconds;
  }

  async #putObservation(item: Record<string, unknown>): Promise<void> {
    await callAws(this.#target('dynamodb:PutItem', this.#probeResultsTable), () =>
      this.#client.send(new PutCommand({ TableName: this.#probeResultsTable, Item: item })),
    );
  }

  async #batchPut(items: readonly Record<string, unknown>[]): Promise<void> {
    let pending = items.map((item) => ({ PutRequest: { Item: item } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const output = await callAws(
        this.#target('dynamodb:BatchWriteItem', this.#probeResultsTable),
        () =>
          this.#client.send(
            new BatchWriteCommand({ RequestItems: { [this.#probeResultsTable]: pending } }),
          ),
      );
      const unprocessed = output.UnprocessedItems?.[this.#probeResultsTable] ?? [];
      pending = unprocessed.flatMap((request) =>
        request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : [],
      );
      if (pending.length === 0) return;
      if (attempt >= BATCH_WRITE_MAX_ATTEMPTS) {
        throw new Error(
          `BatchWriteItem on table "${this.#probeResultsTable}" left ${pending.length} items unprocessed after ${attempt} attempts; the table is throttled, check its capacity mode (on demand expected)`,
        );
      }
      // Unprocessed items mean throttling: back off before asking again, as the DynamoDB docs advise.
      await new Promise((resolve) =>
        setTimeout(resolve, BATCH_WRITE_RETRY_BASE_DELAY_MS * 2 ** (attempt - 1)),
      );
    }
  }

  #target(action: string, table: string) {
    return { action, resource: `table "${table}"` };
  }
}

function parseStoredJson(text: unknown, where: string): unknown {
  if (typeof text !== 'string')
    throw new StoredRecordError(where, ['expected a JSON string attribute']);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StoredRecordError(where, [`not valid JSON (${(error as Error).message})`]);
  }
}

function isConditionFailure(error: unknown): boolean {
  return awsErrorName(error) === 'ConditionalCheckFailedException';
}

function assertItemFits(body: string, what: string): void {
  const sizeBytes = Buffer.byteLength(body, 'utf8');
  // Keys and the other attributes take a few hundred bytes; keep a margin for them.
  if (sizeBytes > MAX_ITEM_BYTES - 1024) {
    throw new RangeError(
      `${what} is ${sizeBytes} bytes as JSON, above DynamoDB's ${MAX_ITEM_BYTES}-byte item limit; record fewer results per item`,
    );
  }
}
