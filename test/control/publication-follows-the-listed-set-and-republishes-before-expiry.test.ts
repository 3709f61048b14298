// The publish policy: a new version when the listed set changes, the same set again after a third of the expiry, nothing unsafe, RegistryStale when it keeps failing.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { REPUBLISH_AFTER_EXPIRY_FRACTION, republishAfterMs } from '../../control/publication.ts';
import { initialFleetState } from '../../fleet/state.ts';
import { makeConfig, nodeIdOf, T0_MS } from '../fleet/failover/fleet-fixture.ts';
import { controlRig } from './control-fixture.ts';

const config = makeConfig({ nodes: 4, failover: { minHealthy: 2 } });

describe('publishing the registry', () => {
  it('publishes the first time, not again while nothing changed, and again once the version is due', async () => {
    const rig = await controlRig(config, T0_MS);
    const state = initialFleetState(config);
    const first = await rig.publication.publishIfDue(state, T0_MS);
    const soon = await rig.publication.publishIfDue(state, T0_MS + republishAfterMs(config) - 1);
    const due = await rig.publication.publishIfDue(state, T0_MS + republishAfterMs(config));
    assert.ok(first.published);
    assert.deepEqual(soon, { published: false, reason: 'unchanged', sequence: 1 });
    assert.ok(due.published);
    assert.equal(due.why, 'due');
    assert.equal(due.sequence, 2);
    assert.equal(
      republishAfterMs(config),
      config.registry.expiresAfterSeconds * 1000 * REPUBLISH_AFTER_EXPIRY_FRACTION,
    );
    assert.ok(
      republishAfterMs(config) < (config.registry.expiresAfterSeconds * 1000) / 2,
      'before RegistryStale would fire',
    );
  });

  it('publishes at once when the listed set changes, with an operator drain named in registry.json', async () => {
    const rig = await controlRig(config, T0_MS);
    const state = initialFleetState(config);
    await rig.publication.publishIfDue(state, T0_MS);
    await rig.drains.setDrained(new Set([nodeIdOf(1)]));
    const changed = await rig.publication.publishIfDue(state, T0_MS + 1000);
    assert.ok(changed.published);
    assert.equal(changed.why, 'changed');
    assert.deepEqual(rig.publisher.listed(config.fleet), [nodeIdOf(0), nodeIdOf(2), nodeIdOf(3)]);
    const registry = JSON.parse(
      new TextDecoder().decode(rig.publisher.published.at(-1)!.registryJson),
    );
    const entry = registry.nodes[nodeIdOf(1)];
    assert.equal(entry.reason, 'drained by an operator');
    assert.equal(entry.listed, false);
  });

  it('hands versions to the publisher one at a time, in sequence order, when calls overlap', async () => {
    const rig = await controlRig(config, T0_MS);
    const state = initialFleetState(config);
    await rig.drains.setDrained(new Set([nodeIdOf(0)]));
    const outcomes = await Promise.all([
      rig.publication.publishIfDue(state, T0_MS),
      rig.publication.publishIfDue(
        { ...state, listedNodeIds: state.listedNodeIds.slice(0, 3) },
        T0_MS,
      ),
    ]);
    assert.ok(outcomes.every((outcome) => outcome.published));
    assert.deepEqual(
      rig.publisher.published.map((artifacts) => artifacts.sequence),
      [1, 2],
    );
  });

  it('keeps the published version when no listed node has an address', async () => {
    const rig = await controlRig(config, T0_MS);
    const outcome = await rig.publication.publishIfDue(
      { ...initialFleetState(config), listedNodeIds: [] },
      T0_MS,
    );
    assert.equal(outcome.published, false);
    assert.equal(outcome.published === false && outcome.reason, 'nothing-listable');
    assert.deepEqual(rig.publisher.published, []);
  });

  it('reports a refused publication, and calls it stale once half the expiry passed without one', async () => {
    const rig = await controlRig(config, T0_MS);
    const state = initialFleetState(config);
    await rig.publication.publishIfDue(state, T0_MS);
    rig.publisher.refuseWith = new Error('bucket refused the write');
    const expiryMs = config.registry.expiresAfterSeconds * 1000;
    const early = await rig.publication.publishIfDue(state, T0_MS + republishAfterMs(config));
    const late = await rig.publication.publishIfDue(state, T0_MS + expiryMs / 2 + 1);
    assert.ok(!early.published && early.reason === 'refused' && !early.stale);
    assert.ok(!late.published && late.reason === 'refused' && late.stale);
    assert.match(late.reason === 'refused' ? late.error.message : '', /bucket refused/);
    assert.equal(
      rig.history.lastRecord?.sequence,
      1,
      'a refused version is not recorded as published',
    );
  });
});
