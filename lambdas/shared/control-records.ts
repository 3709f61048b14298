// The controller's small records in the node state table, as the control loop's ports: operator drains (versioned, conditional) and the publication history.
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  type OperatorDrains,
  type PublicationHistory,
  type PublicationRecord,
  StaleStateError,
} from '../../fleet/ports.ts';
import { TABLE_KEYS, tableKeys } from '../../fleet/tables.ts';
import { AwsCallError, awsErrorName, callAws } from '../adapters/aws-call-error.ts';

/** Lost races in a row before an operator change gives up and asks the operator to retry. */
export const OPERATOR_CHANGE_MAX_ATTEMPTS = 3;

const OperatorOverridesSchema = z.object({ drained: z.array(z.string()) });
const PublicationSchema = z.object({
  sequence: z.number().int().positive(),
  listedKey: z.string(),
  publishedAtMs: z.number().int().nonnegative(),
});

export interface ControlRecordsProps {
  fleet: string;
  nodeStateTableName: string;
  /** The control region's DynamoDB client. */
  client: DynamoDBDocumentClient;
}

interface Versioned<T> {
  body: T | undefined;
  version: number;
}

async function getVersioned(
  props: ControlRecordsProps,
  key: { pk: string; sk: string },
): Promise<Versioned<unknown>> {
  const output = await callAws(
    { action: 'dynamodb:GetItem', resource: `table "${props.nodeStateTableName}"` },
    () =>
      props.client.send(
        new GetCommand({ TableName: props.nodeStateTableName, Key: key, ConsistentRead: true }),
      ),
  );
  const item = output.Item;
  if (!item || typeof item['body'] !== 'string') return { body: undefined, version: 0 };
  // Records written before they were versioned count as version 1.
  const version = typeof item['version'] === 'number' ? item['version'] : 1;
  try {
    return { body: JSON.parse(item['body']), version };
  } catch {
    return { body: undefined, version };
  }
}

/** Writes `body` as version `expected + 1` only if the stored version is still `expected`. */
async function putIfVersion(
  props: ControlRecordsProps,
  key: { pk: string; sk: string },
  body: unknown,
  expected: number,
  what: string,
): Promise<number> {
  try {
    await props.client.send(
      new PutCommand({
        TableName: props.nodeStateTableName,
        Item: { ...key, version: expected + 1, body: JSON.stringify(body) },
        ConditionExpression:
          expected === 0
            ? 'attribute_not_exists(#pk)'
            : '#version = :expected OR (attribute_not_exists(#version) AND :expected = :one)',
        ExpressionAttributeNames:
          expected === 0 ? { '#pk': TABLE_KEYS.partitionKey } : { '#version': 'version' },
        ExpressionAttributeValues:
          expected === 0 ? undefined : { ':expected': expected, ':one': 1 },
      }),
    );
    return expected + 1;
  } catch (error) {
    if (awsErrorName(error) === 'ConditionalCheckFailedException') {
      throw new StaleStateError(what, expected);
    }
    throw new AwsCallError(
      { action: 'dynamodb:PutItem', resource: `table "${props.nodeStateTableName}"` },
      error,
    );
  }
}

/**
 * Operator drains as a versioned document: setDrained writes only if nobody changed the drains
 * since this object's last drained() read, so two operators cannot undo each other or both pass
 * the min-healthy check. Use one object per operator request (the API does), and re-run the whole
 * change on StaleStateError (withOperatorRetry).
 * @example
 * await withOperatorRetry(() => drainByOperator(config, state, new DynamoOperatorDrains(props), nodeId));
 */
export class DynamoOperatorDrains implements OperatorDrains {
  readonly #props: ControlRecordsProps;
  #readVersion: number | undefined;

  constructor(props: ControlRecordsProps) {
    this.#props = props;
  }

  async drained(): Promise<ReadonlySet<string>> {
    const { body, version } = await getVersioned(
      this.#props,
      tableKeys.operatorOverrides(this.#props.fleet),
    );
    this.#readVersion = version;
    const parsed = OperatorOverridesSchema.safeParse(body);
    return new Set(parsed.success ? parsed.data.drained : []);
  }

  async setDrained(nodeIds: ReadonlySet<string>): Promise<void> {
    if (this.#readVersion === undefined) {
      throw new Error('setDrained needs the drained() read it changes; read the drains first');
    }
    this.#readVersion = await putIfVersion(
      this.#props,
      tableKeys.operatorOverrides(this.#props.fleet),
      { drained: [...nodeIds].sort() },
      this.#readVersion,
      `operator drains of ${this.#props.fleet}`,
    );
  }
}

/** Runs an operator change again (fresh read, fresh checks) when another change landed between its read and its write. */
export async function withOperatorRetry<T>(
  change: () => Promise<T>,
  maxAttempts = OPERATOR_CHANGE_MAX_ATTEMPTS,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await change();
    } catch (error) {
      if (!(error instanceof StaleStateError) || attempt >= maxAttempts) throw error;
    }
  }
}

/** The last publication, and the registry's sequence counter (reserved with a conditional write, never reused). */
export class DynamoPublicationHistory implements PublicationHistory {
  readonly #props: ControlRecordsProps;

  constructor(props: ControlRecordsProps) {
    this.#props = props;
  }

  async last(): Promise<PublicationRecord | undefined> {
    const { body } = await getVersioned(
      this.#props,
      tableKeys.registryPublication(this.#props.fleet),
    );
    const parsed = PublicationSchema.safeParse(body);
    return parsed.success ? parsed.data : undefined;
  }

  async reserveSequence(atLeastAbove: number): Promise<number> {
    const key = { pk: `${this.#props.fleet}#registry`, sk: 'sequence' };
    for (;;) {
      const { body, version } = await getVersioned(this.#props, key);
      const reserved = typeof body === 'number' ? body : 0;
      const next = Math.max(reserved, atLeastAbove) + 1;
      try {
        await putIfVersion(this.#props, key, next, version, 'the registry sequence counter');
        return next;
      } catch (error) {
        if (!(error instanceof StaleStateError)) throw error;
      }
    }
  }

  async record(publication: PublicationRecord): Promise<void> {
    const key = tableKeys.registryPublication(this.#props.fleet);
    await callAws(
      { action: 'dynamodb:PutItem', resource: `table "${this.#props.nodeStateTableName}"` },
      () =>
        this.#props.client.send(
          new PutCommand({
            TableName: this.#props.nodeStateTableName,
            Item: { ...key, body: JSON.stringify(publication) },
          }),
        ),
    );
  }
}
