// The node directory: each node's peer id (and ENR and listen addresses where REST told them), as probers last saw them, in the probe results table.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type NodeIdentity, NodeIdentitySchema } from '../../control/node-addresses.ts';
import { TABLE_KEYS, tableKeys } from '../../fleet/tables.ts';
import { AwsCallError, awsErrorName, callAws } from '../adapters/aws-call-error.ts';
import type { EnvironmentKey } from './environment.ts';

const defaultDocumentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/** Where identities are kept; DynamoNodeDirectory on AWS. */
export interface NodeDirectory {
  /** Writes what a node's REST API said: the fullest account of it, so it always replaces the record. */
  record(identity: NodeIdentity): Promise<void>;
  /**
   * Writes a peer id learnt from a dial's handshake, unless the directory already holds that peer
   * id (its ENR and listen addresses from REST stay) or a record observed later (a prober with an
   * older view must not undo a newer one). Resolves whether it wrote.
   */
  recordLearnedPeerId(identity: NodeIdentity): Promise<boolean>;
  /** Every known identity by node id. */
  all(): Promise<Map<string, NodeIdentity>>;
}

export interface DynamoNodeDirectoryProps {
  fleet: string;
  probeResultsTableName: string;
  /** @default a module-scope DynamoDBDocumentClient */
  client?: DynamoDBDocumentClient;
}

/**
 * Items under `{fleet}#identity`, one per node, without expiry: an identity stays valid until the
 * node key changes. REST-reaching probers overwrite it each invocation; the others write only
 * when it is missing or names another peer id (a conditional write on `peerId` and `observedAtMs`,
 * kept beside the JSON body for that).
 * @example
 * const directory = new DynamoNodeDirectory({ fleet, probeResultsTableName });
 * const peerId = (await directory.all()).get(nodeId)?.peerId;
 */
export class DynamoNodeDirectory implements NodeDirectory {
  readonly #fleet: string;
  readonly #table: string;
  readonly #client: DynamoDBDocumentClient;

  constructor(props: DynamoNodeDirectoryProps) {
    this.#fleet = props.fleet;
    this.#table = props.probeResultsTableName;
    this.#client = props.client ?? defaultDocumentClient;
  }

  async record(identity: NodeIdentity): Promise<void> {
    await callAws({ action: 'dynamodb:PutItem', resource: `table "${this.#table}"` }, () =>
      this.#client.send(new PutCommand({ TableName: this.#table, Item: this.#item(identity) })),
    );
  }

  async recordLearnedPeerId(identity: NodeIdentity): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: this.#item(identity),
          // Items written before peerId sat beside the body carry none: a differing peer id replaces them.
          ConditionExpression:
            'attribute_not_exists(#pk) OR attribute_not_exists(#peerId) OR (#peerId <> :peerId AND #observedAtMs < :observedAtMs)',
          ExpressionAttributeNames: {
            '#pk': TABLE_KEYS.partitionKey,
            '#peerId': 'peerId',
            '#observedAtMs': 'observedAtMs',
          },
          ExpressionAttributeValues: {
            ':peerId': identity.peerId,
            ':observedAtMs': identity.observedAtMs,
          },
        }),
      );
      return true;
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw new AwsCallError(
        { action: 'dynamodb:PutItem', resource: `table "${this.#table}"` },
        error,
      );
    }
  }

  #item(identity: NodeIdentity): Record<string, unknown> {
    return {
      ...tableKeys.nodeIdentity(this.#fleet, identity.nodeId),
      nodeId: identity.nodeId,
      peerId: identity.peerId,
      observedAtMs: identity.observedAtMs,
      body: JSON.stringify(identity),
    };
  }

  async all(): Promise<Map<string, NodeIdentity>> {
    const identities = new Map<string, NodeIdentity>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await callAws(
        { action: 'dynamodb:Query', resource: `table "${this.#table}"` },
        () =>
          this.#client.send(
            new QueryCommand({
              TableName: this.#table,
              KeyConditionExpression: '#pk = :pk',
              ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
              ExpressionAttributeValues: { ':pk': tableKeys.nodeIdentityPartition(this.#fleet) },
              ExclusiveStartKey: startKey,
            }),
          ),
      );
      for (const item of page.Items ?? []) {
        const parsed = NodeIdentitySchema.safeParse(safeJson(item['body']));
        // A record this version cannot read is ignored: the next REST-reaching prober rewrites it, as
        // does any prober that then learns a different peer id.
        if (parsed.success) identities.set(parsed.data.nodeId, parsed.data);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return identities;
  }
}

function safeJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The directory in the probe results table, named by values read with readFunctionEnvironment. */
export function dynamoNodeDirectory(
  values: Record<Extract<EnvironmentKey, 'fleet' | 'probeResultsTable'>, string>,
): DynamoNodeDirectory {
  return new DynamoNodeDirectory({
    fleet: values.fleet,
    probeResultsTableName: values.probeResultsTable,
  });
}
