// The node directory: each node's peer id, ENR and listen addresses, as REST-reaching probers last saw them, in the probe results table.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type NodeIdentity, NodeIdentitySchema } from '../../control/node-addresses.ts';
import { TABLE_KEYS, tableKeys } from '../../fleet/tables.ts';
import { callAws } from '../adapters/aws-call-error.ts';

const defaultDocumentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/** Where identities are kept; DynamoNodeDirectory on AWS. */
export interface NodeDirectory {
  record(identity: NodeIdentity): Promise<void>;
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
 * node key changes, and a prober overwrites it each invocation.
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
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...tableKeys.nodeIdentity(this.#fleet, identity.nodeId),
            nodeId: identity.nodeId,
            body: JSON.stringify(identity),
          },
        }),
      ),
    );
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
        // A record this version cannot read is ignored: the next REST-reaching prober rewrites it.
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
