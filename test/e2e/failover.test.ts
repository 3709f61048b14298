// End to end on one running six-node fleet: a killed node leaves and rejoins fleets.json, a blind prober drains nothing,
// a history hole lowers one node only, a flapping node waits longer, and half the fleet dying never empties the registry.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fleetReputations } from '../../fleet/controller.ts';
import type { FleetSnapshot } from '../../local/api.ts';
import { Orchestrator } from '../../local/orchestrator.ts';
import {
  fastFleetConfig,
  PROBE_INTERVAL_MS,
  RegistryWatcher,
  waitFor,
  waitForSettledFleet,
} from './fleet-harness.ts';

const config = fastFleetConfig(6);
const ids = config.nodes.map((node) => node.id);
const [killed, holed, flapper, , , lastNode] = ids as [
  string,
  string,
  string,
  string,
  string,
  string,
];
let fleet: Orchestrator;
let watcher: RegistryWatcher;
let dataDir: string;
const consoleLines: string[] = [];
const snapshots: FleetSnapshot[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'storefleet-e2e-'));
  fleet = await Orchestrator.start({
    config,
    dataDir,
    port: 0,
    intervalMs: PROBE_INTERVAL_MS,
    completenessIntervalMs: 2 * PROBE_INTERVAL_MS,
    trafficRatePerSecond: 5,
    log: (line) => consoleLines.push(line),
  });
  fleet.subscribe((update) => {
    if (update.type === 'snapshot') snapshots.push(update.snapshot);
  });
  watcher = new RegistryWatcher(fleet.url, config.fleet);
  watcher.start();
  await waitFor(
    'the first registry version with all six nodes',
    () => watcher.latest?.listed.length === 6,
  );
  await waitForSettledFleet(fleet);
});

afterAll(async () => {
  // The fleet's console, kept for whoever investigates a failure.
  writeFileSync(join(tmpdir(), 'storefleet-e2e-failover.log'), `${consoleLines.join('\n')}\n`);
  await watcher?.stop();
  await fleet?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function listedInState(): string[] {
  return fleet.snapshot().listedNodeIds;
}

function events(name: string, nodeId?: string) {
  return fleet
    .recentEvents(2000)
    .filter((e) => e.name === name && (nodeId === undefined || e.nodeId === nodeId));
}

async function allBackAndListed(timeoutMs = 40_000): Promise<void> {
  // The controller's state first: the snapshot and the served file lag it by the rest of a round.
  await waitFor(
    'all six nodes active and listed again',
    () =>
      Object.values(fleet.state.nodes).every((node) => node.status === 'active') &&
      fleet.state.listedNodeIds.length === 6 &&
      listedInState().length === 6 &&
      watcher.latest?.listed.length === 6,
    timeoutMs,
  );
}

describe('a killed node', () => {
  it('is gone from the served fleets.json within 3 probe rounds, replaced, and back after probation', async () => {
    // Act
    const killedAtRound = fleet.round;
    await fleet.chaos({ action: 'kill', nodeId: killed });
    await waitFor(
      'the killed node to leave the served fleets.json',
      () => watcher.latest && !watcher.latest.listed.includes(killed),
    );
    // Assess
    assert.ok(fleet.round - killedAtRound <= 3, `left after ${fleet.round - killedAtRound} rounds`);
    await waitFor('a replacement', () => events('Replace', killed).length > 0);
    await waitFor(
      'the node back in the served fleets.json',
      () => watcher.latest?.listed.includes(killed),
      40_000,
    );
    assert.equal(events('Readmit', killed).length, 1);
    assert.equal(fleet.runtime.taskStatesNow().get(killed), 'running');
  });

  it('had every served version signed and numbered upward', () => {
    assert.deepEqual(watcher.problems, []);
    assert.ok(watcher.versions.length >= 3, `${watcher.versions.length} versions seen`);
    assert.ok(watcher.versions.every((version) => version.signatureVerified));
  });
});

describe('a blind vantage point', () => {
  it('drains nothing and raises ProberBlind', async () => {
    await allBackAndListed();
    const drainsBefore = events('Drain').length;
    await fleet.chaos({ action: 'blind', vantageId: 'vp-us' });
    await waitFor('ProberBlind on vp-us', () => fleet.state.alarms['ProberBlind:vp-us']);
    const blindAtRound = fleet.round;
    await waitFor('four more rounds', () => fleet.round >= blindAtRound + 4);
    assert.equal(events('Drain').length, drainsBefore);
    assert.equal(listedInState().length, 6);
    assert.ok(consoleLines.some((line) => line.startsWith('ALARM [critical] ProberBlind vp-us')));
    await fleet.chaos({ action: 'clear', target: 'vp-us' });
    await waitFor('ProberBlind to clear', () => !fleet.state.alarms['ProberBlind:vp-us']);
  });
});

describe('a hole in one archive', () => {
  it("lowers that node's completeness and reputation, not the others'", async () => {
    const reputation = () =>
      new Map(fleetReputations(config, fleet.state).map((rep) => [rep.nodeId, rep]));
    await waitFor('completeness measured on every node', () =>
      [...reputation().values()].every((rep) => rep.completeness !== null),
    );
    const before = reputation();
    await fleet.chaos({ action: 'hole', nodeId: holed });
    await waitFor(
      "the hole node's completeness and reputation to drop",
      () => {
        const now = reputation().get(holed);
        const was = before.get(holed);
        return (
          now?.completeness != null &&
          was?.completeness != null &&
          now.completeness < was.completeness - 0.1 &&
          now.composite != null &&
          was?.composite != null &&
          now.composite < was.composite - 0.02
        );
      },
      40_000,
    );
    // Each node against its own baseline: the node killed earlier may still be catching up.
    const after = reputation();
    const dropOf = (id: string) =>
      (before.get(id)?.completeness ?? 1) - (after.get(id)?.completeness ?? 0);
    for (const id of ids.filter((id) => id !== holed)) {
      assert.ok(dropOf(id) <= 0.05, `${id} completeness dropped by ${dropOf(id)}`);
      assert.ok(
        dropOf(holed) > dropOf(id) + 0.05,
        `${id} dropped ${dropOf(id)}, the hole ${dropOf(holed)}`,
      );
    }
    await fleet.chaos({ action: 'clear', target: holed });
  });
});

describe('an operator', () => {
  const post = (path: string, body?: unknown, token = fleet.adminToken) =>
    fetch(`${fleet.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('drains a node out of the served fleets.json and undrains it, with the token only', async () => {
    const target = ids[3] as string;
    assert.equal((await post(`/api/nodes/${target}/drain`, undefined, 'wrong')).status, 403);
    assert.equal((await post(`/api/nodes/${target}/drain`)).status, 200);
    await waitFor(
      'the drained node gone from the served file',
      () => watcher.latest && !watcher.latest.listed.includes(target),
    );
    assert.equal(fleet.snapshot().nodes.find((node) => node.id === target)?.operatorDrained, true);
    assert.equal((await post(`/api/nodes/${target}/undrain`)).status, 200);
    await waitFor('the node back in the served file', () =>
      watcher.latest?.listed.includes(target),
    );
  });

  it('runs a stress test on demand and records its summary', async () => {
    const target = ids[4] as string;
    const refused = await post('/api/stress', {
      nodeId: target,
      rate: 10_000,
      durationSeconds: 2,
      connections: 4,
      transport: 'rest',
    });
    assert.equal(refused.status, 400);
    const accepted = await post('/api/stress', {
      nodeId: target,
      rate: 50,
      durationSeconds: 2,
      connections: 4,
      transport: 'rest',
    });
    assert.equal(accepted.status, 202);
    const finished = await waitFor('the stress summary', () => events('StressFinished', target)[0]);
    assert.match(finished.message, /req\/s achieved, p50 [\d.]+ ms, p99 [\d.]+ ms/);
    await waitFor(
      'the stress result in the reputation',
      () => fleet.state.nodes[target]?.reputation.stress !== null,
    );
  });
});

describe('a flapping node', () => {
  it('is drained once per failure, with a longer probation the second time', async () => {
    await allBackAndListed();
    const drainsOfOthers = () => events('Drain').filter((e) => e.nodeId !== flapper).length;
    const othersBefore = drainsOfOthers();
    const drainsBefore = fleet.state.nodes[flapper]?.counters.drains ?? 0;
    const firstProbation = fleet.state.nodes[flapper]?.requiredProbationRounds ?? 0;
    await fleet.chaos({ action: 'flap', nodeId: flapper });
    await waitFor(
      'the first drain',
      () => (fleet.state.nodes[flapper]?.counters.drains ?? 0) === drainsBefore + 1,
    );
    const afterFirst = fleet.state.nodes[flapper]?.requiredProbationRounds ?? 0;
    await waitFor(
      'the second drain',
      () => (fleet.state.nodes[flapper]?.counters.drains ?? 0) === drainsBefore + 2,
      60_000,
    );
    const afterSecond = fleet.state.nodes[flapper]?.requiredProbationRounds ?? 0;
    await fleet.chaos({ action: 'clear', target: flapper });
    assert.equal(afterFirst, Math.max(firstProbation, config.failover.probationRounds));
    assert.ok(afterSecond > afterFirst, `probation ${afterFirst} then ${afterSecond}`);
    assert.equal(drainsOfOthers(), othersBefore, 'no other node was drained');
    // One drain per failure: never two drain events without a readmission between them.
    const flapperEvents = fleet
      .recentEvents(2000)
      .filter((e) => e.nodeId === flapper && ['Drain', 'Readmit'].includes(e.name));
    const lastTwoDrains = flapperEvents.filter((e) => e.name === 'Drain').slice(-2);
    assert.equal(lastTwoDrains.length, 2);
    assert.ok(
      flapperEvents.some(
        (e) =>
          e.name === 'Readmit' &&
          e.id > (lastTwoDrains[0]?.id ?? 0) &&
          e.id < (lastTwoDrains[1]?.id ?? 0),
      ),
      'readmitted between the two drains',
    );
  });
});

describe('half the fleet killed at once', () => {
  it('never lists fewer than minHealthy, drains at most the cap per round, and raises an alarm', async () => {
    await allBackAndListed(60_000);
    const versionsBefore = watcher.versions.length;
    const snapshotsBefore = snapshots.length;
    const victims = ids.slice(3);
    for (const nodeId of victims) await fleet.chaos({ action: 'kill', nodeId });
    await waitFor('DrainCapReached', () => events('DrainCapReached').length > 0);
    await waitFor(
      'all three victims drained or replaced',
      () =>
        victims.every(
          (id) =>
            (fleet.state.nodes[id]?.counters.drains ?? 0) > 0 &&
            !watcher.latest?.listed.includes(id),
        ),
      30_000,
    );
    for (const version of watcher.versions.slice(versionsBefore)) {
      assert.ok(
        version.listed.length >= config.failover.minHealthy,
        `sequence ${version.sequence} lists ${version.listed.length}`,
      );
    }
    for (const snapshot of snapshots.slice(snapshotsBefore)) {
      const drainedThisRound = snapshot.nodes.filter((node) => node.state === 'drained').length;
      assert.ok(
        drainedThisRound <= config.failover.maxDrainsPerRound,
        `round ${snapshot.round} drained ${drainedThisRound}`,
      );
    }
    assert.ok(consoleLines.some((line) => line.startsWith('ALARM [warning] DrainCapReached')));
    assert.deepEqual(watcher.problems, []);
    assert.ok(lastNode);
  });
});
