// Powertools Idempotency over the node state table, against dynalite: a repeated request runs once.
import assert from 'node:assert/strict';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { tableKeys } from '../../../fleet/tables.ts';
import { idempotencyPersistence } from '../../../lambdas/adapters/idempotency.ts';
import { type DynamoEmulator, startDynamoEmulator } from './dynalite-emulator.ts';

const STATE_TABLE = 'test-node-state-idempotency';
let emulator: DynamoEmulator;

beforeAll(async () => {
  emulator = await startDynamoEmulator([STATE_TABLE]);
});

afterAll(async () => {
  await emulator.close();
});

describe('making a handler idempotent with the node state table', () => {
  it('runs a repeated request once and returns the first answer again', async () => {
    // Prepare
    let runs = 0;
    const publish = async (event: { sequence: number }) => {
      runs += 1;
      return { published: event.sequence, run: runs };
    };
    const handler = makeIdempotent(publish, {
      persistenceStore: idempotencyPersistence({
        fleet: 'test.fleet',
        nodeStateTableName: STATE_TABLE,
        functionName: 'publisher',
        client: emulator.rawClient,
      }),
      config: new IdempotencyConfig({ eventKeyJmesPath: 'sequence', expiresAfterSeconds: 600 }),
    });

    // Act
    const first = await handler({ sequence: 7 });
    const repeated = await handler({ sequence: 7 });
    const next = await handler({ sequence: 8 });

    // Assess
    assert.equal(runs, 2);
    assert.deepEqual(first, { published: 7, run: 1 });
    assert.deepEqual(repeated, first);
    assert.deepEqual(next, { published: 8, run: 2 });
    const records = await emulator.client.send(
      new QueryCommand({
        TableName: STATE_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: {
          ':pk': tableKeys.idempotencyPartition('test.fleet', 'publisher'),
        },
      }),
    );
    assert.equal(records.Count, 2);
    for (const item of records.Items ?? []) {
      assert.equal(item['status'], 'COMPLETED');
      assert.equal(typeof item['expiresAt'], 'number');
    }
  });
});
