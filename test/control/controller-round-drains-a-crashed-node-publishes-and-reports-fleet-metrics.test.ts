// One controller round end to end over in-memory ports: decide, perform, publish a signed fleets.json, emit fleet-level metrics only.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { fleetView } from '../../control/fleet-view.ts';
import { METRICS } from '../../fleet/metrics.ts';
import { verifyRegistrySignature } from '../../fleet/registry/index.ts';
import {
  makeConfig,
  nodeIdOf,
  probeRoundsFor,
  ROUND_MS,
  T0_MS,
} from '../fleet/failover/fleet-fixture.ts';
import { controlRig } from './control-fixture.ts';

const config = makeConfig({
  nodes: 6,
  vantagePoints: 3,
  failover: { quorum: 2, failuresBeforeDrain: 2, minHealthy: 2 },
});
const crashed = nodeIdOf(3);

const FLEET_METRICS = [
  METRICS.reportingVantagePoints,
  METRICS.blindVantagePoints,
  METRICS.listedNodes,
  METRICS.healthyListedNodes,
  METRICS.drainsDeferred,
  METRICS.escalatedNodes,
  METRICS.roundDurationMs,
];

describe('the controller round', () => {
  it('drains a node whose task stopped and that one vantage point failed to reach, in that round, and publishes without it', async () => {
    // Prepare
    const rig = await controlRig(config, T0_MS);
    for (const report of probeRoundsFor(config, 1, () => 'ok'))
      await rig.store.recordProbeRound(report);
    const first = await rig.controller.runRound(1, { deadlineAtMs: T0_MS + 1000 });
    rig.clock.advance(ROUND_MS);
    rig.runtime.tasks.set(crashed, 'stopped');
    for (const report of probeRoundsFor(config, 2, (nodeId, vantageId) =>
      nodeId === crashed && vantageId === 'vp-a' ? 'fail' : 'ok',
    )) {
      await rig.store.recordProbeRound(report);
    }
    // Act
    const second = await rig.controller.runRound(2, { deadlineAtMs: rig.clock.nowMs() + 1000 });
    // Assess
    assert.equal(first.publication.published, true);
    assert.deepEqual(
      second.decided.actions
        .filter((action) => action.kind === 'drain')
        .map((action) => action.nodeId),
      [crashed],
    );
    assert.deepEqual(
      second.performed.performed.map((action) => action.kind),
      ['drain'],
    );
    assert.ok(second.publication.published);
    assert.equal(second.publication.why, 'changed');
    assert.deepEqual(
      rig.publisher.published.map((artifacts) => artifacts.sequence),
      [1, 2],
    );
    const latest = rig.publisher.published.at(-1)!;
    assert.ok(
      verifyRegistrySignature(latest.fleetsJson, latest.fleetsJsonSignature, latest.publicKeyPem),
    );
    assert.deepEqual(
      rig.publisher.listed(config.fleet),
      config.nodes.map((node) => node.id).filter((id) => id !== crashed),
    );
    assert.equal(rig.store.state?.listedNodeIds.includes(crashed), false, 'the saved state agrees');
  });

  it('emits each fleet-level metric once a round, none per node, and logs each node instead', async () => {
    const rig = await controlRig(config, T0_MS);
    for (const report of probeRoundsFor(config, 1, () => 'ok'))
      await rig.store.recordProbeRound(report);
    await rig.controller.runRound(1, { deadlineAtMs: T0_MS + 1000 });
    for (const name of FLEET_METRICS) {
      assert.equal(rig.metrics.records.filter((record) => record.name === name).length, 1, name);
    }
    assert.equal(rig.metrics.last(METRICS.reportingVantagePoints), 3);
    assert.equal(rig.metrics.last(METRICS.listedNodes), 6);
    assert.equal(rig.metrics.last(METRICS.healthyListedNodes), 6);
    assert.equal(rig.metrics.last(METRICS.registryPublications), 1);
    assert.ok(
      rig.metrics.records.every((record) => record.dimensions === undefined),
      'no per-node dimension',
    );
    assert.ok(rig.metrics.flushes >= 1);
    const line = rig.log.lines.find((entry) => entry.message === 'controller round');
    assert.deepEqual(
      Object.keys(line?.attributes['nodes'] as object).sort(),
      config.nodes.map((node) => node.id).sort(),
    );
  });

  it('remembers which vantage points the decided round was decided on, for the fleet view', async () => {
    const rig = await controlRig(config, T0_MS);
    const [vpA, vpB] = probeRoundsFor(config, 1, () => 'ok');
    await rig.store.recordProbeRound(vpA!);
    await rig.store.recordProbeRound(vpB!);
    const outcome = await rig.controller.runRound(1, { deadlineAtMs: T0_MS + 1000 });
    assert.deepEqual(outcome.reportingVantageIds, ['vp-a', 'vp-b']);
    assert.deepEqual(rig.store.state?.reportingVantageIds, ['vp-a', 'vp-b']);
    const view = fleetView(config, rig.store.state!, await rig.drains.drained());
    assert.deepEqual(view.reportingVantageIds, ['vp-a', 'vp-b']);
    assert.equal(view.round, 1);
    assert.equal(rig.metrics.last(METRICS.reportingVantagePoints), 2);
  });

  it('decides from probes alone when the runtime cannot say what its tasks do', async () => {
    const rig = await controlRig(config, T0_MS);
    rig.runtime.taskStates = async () => {
      throw new Error('DescribeServices throttled');
    };
    for (const report of probeRoundsFor(config, 1, () => 'ok'))
      await rig.store.recordProbeRound(report);
    const outcome = await rig.controller.runRound(1, { deadlineAtMs: T0_MS + 1000 });
    assert.equal(outcome.taskStates, undefined);
    assert.equal(outcome.decided.state.lastProcessedRound, 1);
    assert.ok(
      rig.log.lines.some((entry) => entry.level === 'warn' && /task states/.test(entry.message)),
    );
  });
});
