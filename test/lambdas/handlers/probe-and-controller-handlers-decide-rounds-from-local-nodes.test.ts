// The probe and controller handlers against two local store nodes: rounds recorded in dynalite, decisions saved, a drain asks the publisher.
import assert from 'node:assert/strict';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { roundNumber, roundStartMs } from '../../../control/rounds.ts';
import { METRICS } from '../../../fleet/metrics.ts';
import type { NodeRuntime, TaskState } from '../../../fleet/ports.ts';
import {
  createControllerHandler,
  ROUND_SETTLE_MS,
} from '../../../lambdas/controller/controller-handler.ts';
import { createProbeHandler } from '../../../lambdas/probe/probe-handler.ts';
import { ecsRuntime } from '../../../lambdas/shared/aws-wiring.ts';
import { DynamoObservationReader } from '../../../lambdas/shared/observation-reader.ts';
import {
  FLEET,
  fakeContext,
  type LocalFleet,
  localProbeDeps,
  NODE_IDS,
  PROBE_RESULTS_TABLE,
  quietLog,
  recordingMetrics,
  startLocalFleet,
  virtualClock,
} from './local-fleet-fixture.ts';

let fleet: LocalFleet;
/** A round boundary in the past, so every virtual wait is short and rounds are numbered alike. */
const firstRound = roundNumber(Date.now(), 5) - 100;

function probeHandlerFor(
  vantageId: string,
  clock: ReturnType<typeof virtualClock>,
  loopSeconds = 5,
  dialersCreated: { count: number } = { count: 0 },
) {
  const metrics = recordingMetrics();
  const handler = createProbeHandler(
    localProbeDeps(fleet, {
      vantageId,
      loopSeconds,
      clock,
      metrics,
      createDialer: (options) => {
        dialersCreated.count += 1;
        return fleet.createDialer(options);
      },
    }),
  );
  return { handler, metrics };
}

function fakeRuntime(): NodeRuntime & { replaced: string[] } {
  const replaced: string[] = [];
  return {
    replaced,
    replaceNode: async (nodeId) => {
      replaced.push(nodeId);
    },
    taskStates: async () => new Map<string, TaskState>(NODE_IDS.map((id) => [id, 'running'])),
  };
}

async function probeRound(round: number): Promise<void> {
  // Both vantage points start just before the boundary of `round`.
  for (const vantageId of ['vp-eu', 'vp-us']) {
    const clock = virtualClock(roundStartMs(round, 5) - 10);
    const { handler } = probeHandlerFor(vantageId, clock);
    const result = await handler({}, fakeContext(`probe-${vantageId}`, clock));
    assert.deepEqual(result.rounds, [round], `${vantageId} probed exactly round ${round}`);
  }
}

beforeAll(async () => {
  fleet = await startLocalFleet();
});

afterAll(async () => {
  await fleet.close();
});

describe('the probe handler', () => {
  it('learns the peer ids over REST and records one round with ok pings per node', async () => {
    // Prepare
    const clock = virtualClock(roundStartMs(firstRound, 5) - 10);
    const { handler, metrics } = probeHandlerFor('vp-eu', clock);

    // Act
    const result = await handler({}, fakeContext('probe-vp-eu', clock));

    // Assess
    assert.deepEqual(result.identified, [...NODE_IDS].sort());
    assert.deepEqual(result.rounds, [firstRound]);
    const identities = await fleet.directory.all();
    for (const [nodeId, node] of fleet.nodes) {
      assert.equal(identities.get(nodeId)?.peerId, node.peerId);
    }
    const [recorded] = await fleet.store.probeRounds(firstRound);
    assert.equal(recorded?.vantageId, 'vp-eu');
    const pings = recorded?.results.filter((probe) => probe.kind === 'ping') ?? [];
    assert.deepEqual(pings.map((ping) => [ping.nodeId, ping.ok]).sort(), [
      [NODE_IDS[0], true],
      [NODE_IDS[1], true],
    ]);
    assert.ok(recorded?.results.some((probe) => probe.kind === 'health' && probe.ok));
    assert.ok(metrics.flushed.some((m) => m.name === METRICS.probeSuccess && m.value === 1));
    assert.ok(metrics.flushed.some((m) => m.name === METRICS.probeLatencyMs));
  });

  it('probes without REST from a vantage point outside the VPC, using the recorded peer ids', async () => {
    // Prepare
    const clock = virtualClock(roundStartMs(firstRound, 5) - 10);
    const { handler } = probeHandlerFor('vp-us', clock);

    // Act
    const result = await handler({}, fakeContext('probe-vp-us', clock));

    // Assess
    assert.deepEqual(result.identified, []);
    const fromUs = (await fleet.store.probeRounds(firstRound)).find((r) => r.vantageId === 'vp-us');
    assert.ok(fromUs);
    assert.ok(fromUs.results.every((probe) => probe.kind !== 'health'));
    assert.ok(fromUs.results.filter((probe) => probe.kind === 'ping').every((probe) => probe.ok));
  });
});

describe('the probe handler loop', () => {
  it('probes every round boundary of its loop with one dialer kept across invocations', async () => {
    // Prepare: rounds well before the ones the controller tests decide.
    const start = firstRound - 50;
    const clock = virtualClock(roundStartMs(start, 5) - 10);
    const created = { count: 0 };
    const { handler } = probeHandlerFor('vp-us', clock, 15, created);

    // Act
    const first = await handler({}, fakeContext('probe-vp-us', clock));
    const second = await handler({}, fakeContext('probe-vp-us', clock));

    // Assess
    assert.deepEqual(first.rounds, [start, start + 1, start + 2]);
    assert.deepEqual(second.rounds, [start + 3, start + 4, start + 5]);
    assert.equal(created.count, 1);
    // After the first dial, connections are reused except every freshDialEveryRounds (4) rounds.
    for (let round = start + 1; round <= start + 5; round++) {
      const pings = (await fleet.store.probeRounds(round))[0]?.results.filter(
        (probe) => probe.kind === 'ping',
      );
      assert.equal(pings?.length, 2);
      for (const ping of pings ?? []) {
        assert.equal(ping.ok, true);
        assert.equal(ping.freshDial, round % 4 === 0, `round ${round} ${ping.nodeId}`);
      }
    }
  });

  it('starts no round that could not finish before the function times out', async () => {
    // Prepare
    const start = firstRound - 40;
    const clock = virtualClock(roundStartMs(start, 5) - 10);
    const { handler } = probeHandlerFor('vp-us', clock, 60);

    // Act: 5 s left: the first round fits, the next boundary (5 s away) would not.
    const result = await handler({}, fakeContext('probe-vp-us', clock, 5000));

    // Assess
    assert.deepEqual(result.rounds, [start]);
  });
});

describe('the controller handler', () => {
  function controllerAt(round: number, runtime: NodeRuntime = fakeRuntime()) {
    const clock = virtualClock(roundStartMs(round, 5) + 2000 + ROUND_SETTLE_MS + 10);
    const metrics = recordingMetrics();
    const publisherRequests: Array<{ round: number; listedNodeIds: string[] }> = [];
    const handler = createControllerHandler({
      loopSeconds: 1,
      controlPlane: fleet.controlPlane,
      store: fleet.store,
      observations: new DynamoObservationReader({
        fleet: FLEET,
        probeResultsTableName: PROBE_RESULTS_TABLE,
        client: fleet.dynamo.client,
      }),
      runtimeFor: () => runtime,
      invokePublisher: async (request) => {
        publisherRequests.push(request);
      },
      clock,
      metrics,
      log: quietLog,
    });
    return { handler, clock, metrics, runtime, publisherRequests };
  }

  it('decides the round the probers reported and saves it, without asking for a publication', async () => {
    // Prepare
    const { handler, clock, metrics, publisherRequests } = controllerAt(firstRound);

    // Act
    const result = await handler({}, fakeContext('controller', clock, 50_000));

    // Assess
    assert.deepEqual(result.rounds, [firstRound]);
    const { state } = await fleet.store.loadFleetState();
    assert.equal(state?.lastProcessedRound, firstRound);
    assert.deepEqual(state?.listedNodeIds, NODE_IDS);
    assert.deepEqual(publisherRequests, []);
    assert.ok(metrics.flushed.some((m) => m.name === METRICS.blindVantagePoints && m.value === 0));
  });

  it('drains a node that stops answering and asks the publisher for a new registry', async () => {
    // Prepare
    await fleet.stopNode(NODE_IDS[1] as string);
    const round = firstRound + 1;
    await probeRound(round);
    const { handler, clock, publisherRequests } = controllerAt(round);

    // Act
    const result = await handler({}, fakeContext('controller', clock, 50_000));

    // Assess
    assert.deepEqual(result.rounds, [round]);
    assert.ok(result.performed.some((key) => key.startsWith(`${FLEET}/drain/${NODE_IDS[1]}`)));
    assert.deepEqual(publisherRequests, [{ round, listedNodeIds: [NODE_IDS[0]] }]);
    const { state } = await fleet.store.loadFleetState();
    assert.equal(state?.nodes[NODE_IDS[1] as string]?.status, 'drained');
  });

  it('acts once when a round is decided again by a retried invocation', async () => {
    // Prepare
    const round = firstRound + 1;
    const { handler, clock, publisherRequests } = controllerAt(round);

    // Act
    const result = await handler({}, fakeContext('controller', clock, 50_000));

    // Assess
    assert.deepEqual(result.rounds, []);
    assert.deepEqual(result.performed, []);
    assert.deepEqual(publisherRequests, []);
  });

  it('replaces the drained node through its ECS service one round later (checks our calls, not AWS)', async () => {
    // Prepare
    const ecsClient = new ECSClient({ region: 'eu-central-1' });
    const ecs = mockClient(ecsClient);
    ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
      services: input.services.map((serviceName) => ({
        serviceName,
        status: 'ACTIVE',
        runningCount: serviceName === 'store-02-eu-central' ? 0 : 1,
        pendingCount: 0,
        deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 },
      })),
    }));
    ecs.on(UpdateServiceCommand).resolves({});
    const round = firstRound + 2;
    await probeRound(round);
    const { handler, clock } = controllerAt(
      round,
      ecsRuntime(fleet.topology, () => ecsClient),
    );

    // Act
    const result = await handler({}, fakeContext('controller', clock, 50_000));

    // Assess
    assert.ok(result.performed.some((key) => key.startsWith(`${FLEET}/replace/${NODE_IDS[1]}`)));
    const updates = ecs.commandCalls(UpdateServiceCommand).map((call) => call.args[0].input);
    assert.deepEqual(updates, [
      {
        cluster: 'storefleet-storefleet-test',
        service: 'store-02-eu-central',
        forceNewDeployment: true,
      },
    ]);
  });
});
