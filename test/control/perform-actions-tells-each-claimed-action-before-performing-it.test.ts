// performActions tells its caller of each action it claimed before performing it: the local runtime's event log hangs on this.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { performActions } from '../../control/perform-actions.ts';
import type { FleetAction } from '../../fleet/controller.ts';

const NODE = 'store-01.eu-central.storefleet.test';

function drain(generation: number): FleetAction {
  return {
    kind: 'drain',
    nodeId: NODE,
    generation,
    idempotencyKey: `test/drain/${NODE}/g${generation}`,
    reason: 'failed 3 rounds in a row',
  };
}

function replace(generation: number): FleetAction {
  return {
    kind: 'replace',
    nodeId: NODE,
    generation,
    attempt: 1,
    idempotencyKey: `test/replace/${NODE}/g${generation}/a1`,
    reason: 'still failing after the drain',
  };
}

/** The state store's claim, in memory: true the first time a key is seen. */
function claims(alreadyClaimed: readonly string[] = []) {
  const seen = new Set(alreadyClaimed);
  return async (key: string) => {
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

describe('performActions tells the caller of each claimed action before performing it', () => {
  it('names a replacement before the runtime is asked for it', async () => {
    // Prepare
    const happened: string[] = [];
    const runtime = {
      replaceNode: async (nodeId: string) => {
        happened.push(`runtime replaces ${nodeId}`);
      },
    };

    // Act
    const outcome = await performActions([drain(1), replace(1)], {
      claimAction: claims(),
      runtime,
      nowMs: 1_000,
      onClaimed: (action) => happened.push(`claimed ${action.kind}`),
    });

    // Assess
    assert.deepEqual(happened, ['claimed drain', 'claimed replace', `runtime replaces ${NODE}`]);
    assert.deepEqual(
      outcome.performed.map((action) => action.kind),
      ['drain', 'replace'],
    );
  });

  it('is silent about actions another run claimed first', async () => {
    // Prepare
    const told: FleetAction[] = [];
    const claimedEarlier = drain(2);

    // Act
    const outcome = await performActions([claimedEarlier, replace(2)], {
      claimAction: claims([claimedEarlier.idempotencyKey]),
      runtime: { replaceNode: async () => {} },
      nowMs: 2_000,
      onClaimed: (action) => told.push(action),
    });

    // Assess
    assert.deepEqual(
      told.map((action) => action.kind),
      ['replace'],
    );
    assert.deepEqual(outcome.alreadyClaimed, [claimedEarlier]);
  });

  it('has told of a replacement that then fails, which is reported as failed', async () => {
    // Prepare
    const told: string[] = [];

    // Act
    const outcome = await performActions([replace(3)], {
      claimAction: claims(),
      runtime: {
        replaceNode: async () => {
          throw new Error('no capacity to start a task');
        },
      },
      nowMs: 3_000,
      onClaimed: (action) => told.push(action.idempotencyKey),
    });

    // Assess
    assert.deepEqual(told, [replace(3).idempotencyKey]);
    assert.equal(outcome.performed.length, 0);
    assert.equal(outcome.failed[0]?.error.message, 'no capacity to start a task');
  });
});
