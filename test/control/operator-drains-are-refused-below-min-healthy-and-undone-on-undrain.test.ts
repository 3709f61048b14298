// Operator drains: a node leaves fleets.json by hand and comes back on undrain, but never below failover.minHealthy.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  drainByOperator,
  OperatorDrainRefusedError,
  undrainByOperator,
} from '../../control/operator-drains.ts';
import { initialFleetState } from '../../fleet/state.ts';
import { makeConfig, nodeIdOf, T0_MS } from '../fleet/failover/fleet-fixture.ts';
import { controlRig, MemoryDrains } from './control-fixture.ts';

const config = makeConfig({ nodes: 4, failover: { minHealthy: 3 } });
const state = initialFleetState(config);

describe('operator drains', () => {
  it('drains down to minHealthy and refuses the next, naming the minimum', async () => {
    const drains = new MemoryDrains();
    const first = await drainByOperator(config, state, drains, nodeIdOf(0));
    const again = await drainByOperator(config, state, drains, nodeIdOf(0));
    await assert.rejects(
      drainByOperator(config, state, drains, nodeIdOf(1)),
      (error: unknown) =>
        error instanceof OperatorDrainRefusedError &&
        /below failover\.minHealthy \(3\)/.test(error.message),
    );
    assert.equal(first.changed, true);
    assert.equal(again.changed, false);
    assert.deepEqual([...(await drains.drained())], [nodeIdOf(0)]);
  });

  it('refuses to undrain a node no operator drained, and undrains one that was', async () => {
    const drains = new MemoryDrains();
    await assert.rejects(undrainByOperator(drains, nodeIdOf(2)), OperatorDrainRefusedError);
    await drainByOperator(config, state, drains, nodeIdOf(2));
    const change = await undrainByOperator(drains, nodeIdOf(2));
    assert.equal(change.changed, true);
    assert.deepEqual([...(await drains.drained())], []);
  });

  it('the controller publishes at once on a drain and on an undrain', async () => {
    const rig = await controlRig(config, T0_MS);
    await rig.controller.publishIfDue();
    const drained = await rig.controller.drainByOperator(nodeIdOf(3));
    const undrained = await rig.controller.undrainByOperator(nodeIdOf(3));
    assert.ok(drained.publication?.published);
    assert.ok(undrained.publication.published);
    assert.deepEqual(
      rig.publisher.listed(config.fleet),
      config.nodes.map((node) => node.id),
    );
    assert.deepEqual(
      rig.publisher.published.map((artifacts) => artifacts.sequence),
      [1, 2, 3],
    );
  });
});
