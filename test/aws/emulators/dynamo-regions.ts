// DynamoDB per region: one dynalite per region, each behind an endpoint that refuses requests signed for another region, as AWS does.
import { createServer, type RequestListener, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_KEY_TYPES, TABLE_KEYS } from '../../../fleet/tables.ts';
import {
  AwsFault,
  credentialScope,
  listen,
  type RunningService,
  sendFault,
} from './json-service.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

const CONTENT_TYPE = 'application/x-amz-json-1.0';

export interface RegionalDynamo extends RunningService {
  region: string;
}

/**
 * One region's DynamoDB on 127.0.0.1:port. dynalite checks no signature; this endpoint checks the
 * credential scope, so a client configured for another region gets `InvalidSignatureException:
 * Credential should be scoped to a valid region.` as from dynamodb.REGION.amazonaws.com.
 */
export async function startRegionalDynamo(region: string, port: number): Promise<RegionalDynamo> {
  const inner = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const handle = inner.listeners('request')[0] as RequestListener;
  const server = createServer((req, res) => {
    const scope = credentialScope(req);
    if (scope?.region !== region) {
      sendFault(
        res,
        new AwsFault(
          'com.amazon.coral.service#InvalidSignatureException',
          `Credential should be scoped to a valid region. (this is DynamoDB in ${region}; the request was signed for ${scope?.region ?? 'no region'})`,
        ),
        CONTENT_TYPE,
      );
      return;
    }
    handle(req, res);
  });
  const running = await listen(server, port);
  return {
    ...running,
    region,
    close: async () => {
      await running.close();
      await new Promise<void>((resolve) => inner.close(() => resolve()));
    },
  };
}

/** Creates the storefleet tables (pk/sk strings, on demand) in one regional endpoint. */
export async function createStorefleetTables(
  dynamo: RegionalDynamo,
  tableNames: readonly string[],
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  const client = new DynamoDBClient({
    region: dynamo.region,
    endpoint: dynamo.url,
    credentials,
    maxAttempts: 1,
  });
  try {
    for (const TableName of tableNames) {
      await client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
          ],
          AttributeDefinitions: Object.entries(TABLE_KEY_TYPES).map(
            ([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }),
          ),
        }),
      );
    }
  } finally {
    client.destroy();
  }
}
