// The controller gathers round N's reports: it decides as soon as a quorum of vantage points reported, or at the deadline on what arrived.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { gatherReports } from '../../control/controller-round.ts';
import { makeConfig, probeRoundsFor, T0_MS } from '../fleet/failover/fleet-fixture.ts';
import { MemoryStore, SteppingClock } from './control-fixture.ts';

const config = makeConfig({ nodes: 4, vantagePoints: 3, failover: { quorum: 2 } });
const ROUND = 7;
const [vpA, vpB, vpC] = probeRoundsFor(config, ROUND, () => 'ok');

describe('gathering the reports of one round', () => {
  it('returns as soon as a quorum of distinct vantage points reported, without waiting for the deadline', async () => {
    // Prepare: vp-a is in at once, vp-b lands after the controller has looked twice.
    const store = new MemoryStore();
    const clock = new SteppingClock(T0_MS);
    await store.recordProbeRound(vpA!);
    let reads = 0;
    store.onRead = () => {
      reads += 1;
      if (reads === 2) store.rounds.push(vpB!);
    };
    // Act
    const reports = await gatherReports(store, {
      round: ROUND,
      quorum: 2,
      deadlineAtMs: T0_MS + 4000,
      clock,
      pollMs: 100,
    });
    // Assess
    assert.deepEqual(
      reports.map((report) => report.vantageId),
      ['vp-a', 'vp-b'],
    );
    assert.equal(clock.nowMs() - T0_MS, 100, 'one poll interval, far before the deadline');
  });

  it('a vantage point reporting twice is one voice: it does not make a quorum alone', async () => {
    const store = new MemoryStore();
    const clock = new SteppingClock(T0_MS);
    await store.recordProbeRound(vpA!);
    await store.recordProbeRound({ ...vpA!, finishedAtMs: vpA!.finishedAtMs + 1 });
    const reports = await gatherReports(store, {
      round: ROUND,
      quorum: 2,
      deadlineAtMs: T0_MS + 1000,
      clock,
    });
    assert.equal(reports.length, 2);
    assert.equal(clock.nowMs(), T0_MS + 1000, 'waited for the deadline');
  });

  it('decides on what arrived when the deadline passes, even on nothing', async () => {
    // Prepare: only vp-c reports; the others are down.
    const store = new MemoryStore();
    const clock = new SteppingClock(T0_MS);
    await store.recordProbeRound(vpC!);
    // Act
    const reports = await gatherReports(store, {
      round: ROUND,
      quorum: 2,
      deadlineAtMs: T0_MS + 450,
      clock,
      pollMs: 100,
    });
    const none = await gatherReports(new MemoryStore(), {
      round: ROUND,
      quorum: 2,
      deadlineAtMs: clock.nowMs() + 200,
      clock,
    });
    // Assess
    assert.deepEqual(
      reports.map((report) => report.vantageId),
      ['vp-c'],
    );
    assert.equal(clock.nowMs() - T0_MS, 450 + 200);
    assert.deepEqual(none, []);
    assert.deepEqual(clock.sleeps.slice(0, 5), [100, 100, 100, 100, 50], 'never past the deadline');
  });
});
