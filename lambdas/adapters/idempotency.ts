// Powertools Idempotency for handlers, persisted in the node state table beside the action claims (no extra table).

import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS, tableKeys } from '../../fleet/tables.ts';

const defaultDynamoDbClient = new DynamoDBClient({});

export interface IdempotencyPersistenceProps {
  fleet: string;
  /** The node state table (pk/sk strings, TTL on `expiresAt`). */
  nodeStateTableName: string;
  /** Scopes the records, so two functions never answer each other's requests; e.g. `publisher`. */
  functionName: string;
  /**
   * Swappable for tests.
   * @default a module-scope DynamoDBClient using the Lambda's region and role
   */
  client?: DynamoDBClient;
}

/**
 * A persistence layer for makeIdempotent / the Middy middleware that stores its records in the node
 * state table: partition `{fleet}#idempotency#{functionName}`, one item per request hash, removed by
 * the table's TTL. Use it where a whole invocation must run once (a duplicated publish request);
 * per-action failover idempotency is DynamoStateStore.claimAction.
 * @example
 * const persistenceStore = idempotencyPersistence({ fleet, nodeStateTableName, functionName: 'publisher' });
 * export const handler = makeIdempotent(publish, {
 *   persistenceStore,
 *   config: new IdempotencyConfig({ eventKeyJmesPath: 'sequence', expiresAfterSeconds: 3600 }),
 * });
 */
export function idempotencyPersistence(
  props: IdempotencyPersistenceProps,
): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({
    tableName: props.nodeStateTableName,
    keyAttr: TABLE_KEYS.partitionKey,
    sortKeyAttr: TABLE_KEYS.sortKey,
    staticPkValue: tableKeys.idempotencyPartition(props.fleet, props.functionName),
    expiryAttr: TABLE_KEYS.timeToLiveAttribute,
    awsSdkV3Client: props.client ?? defaultDynamoDbClient,
  });
}
