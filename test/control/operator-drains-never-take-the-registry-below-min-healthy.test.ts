// Operator drains leave the registry: in config order, and never below failover.minHealthy (the refill).
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { registryListing } from '../../control/listing.ts';
import { makeConfig, nodeIdOf } from '../kit/fleet.ts';

const node = nodeIdOf;

describe('registryListing', () => {
  it('lists what the controller listed, in config order, when no operator drained anything', () => {
    // Prepare
    const config = makeConfig({ nodes: 5, failover: { minHealthy: 2 } });
    const state = { listedNodeIds: [node(3), node(0), node(4), node(1)] };
    // Act
    const listed = registryListing(config, state, new Set());
    // Assess
    assert.deepEqual(listed, [node(0), node(1), node(3), node(4)]);
  });

  it('takes operator-drained nodes out while enough listed nodes remain', () => {
    const config = makeConfig({ nodes: 5, failover: { minHealthy: 2 } });
    const state = { listedNodeIds: [node(0), node(1), node(2), node(3)] };
    const listed = registryListing(config, state, new Set([node(1), node(3)]));
    assert.deepEqual(listed, [node(0), node(2)]);
  });

  it('refills to exactly minHealthy with drained nodes, first in the order the controller listed them', () => {
    const config = makeConfig({ nodes: 6, failover: { minHealthy: 3 } });
    const state = { listedNodeIds: [node(4), node(0), node(1), node(2)] };
    const listed = registryListing(config, state, new Set([node(4), node(0), node(1)]));
    // Only node(2) survives the drains; node(4) and node(0) are put back, node(1) stays out.
    assert.deepEqual(listed, [node(0), node(2), node(4)]);
    assert.equal(listed.length, config.failover.minHealthy);
  });

  it('never lists a node the controller did not list, even below minHealthy', () => {
    const config = makeConfig({ nodes: 6, failover: { minHealthy: 4 } });
    const state = { listedNodeIds: [node(1), node(5)] };
    const listed = registryListing(config, state, new Set([node(5)]));
    assert.deepEqual(listed, [node(1), node(5)]);
  });

  it('keeps minHealthy nodes when the operator drains every listed node', () => {
    const config = makeConfig({ nodes: 4, failover: { minHealthy: 2 } });
    const state = { listedNodeIds: [node(0), node(1), node(2), node(3)] };
    const listed = registryListing(config, state, new Set(state.listedNodeIds));
    assert.deepEqual(listed, [node(0), node(1)]);
  });

  it('ignores operator drains of nodes that are not listed', () => {
    const config = makeConfig({ nodes: 4, failover: { minHealthy: 2 } });
    const state = { listedNodeIds: [node(0), node(1)] };
    const listed = registryListing(config, state, new Set([node(3)]));
    assert.deepEqual(listed, [node(0), node(1)]);
  });
});
