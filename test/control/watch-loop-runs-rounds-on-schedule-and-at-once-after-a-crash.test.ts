// The watch loop: rounds on their schedule, the next one at once when a task stops or a held connection drops, and on after a failed round.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, vi } from 'vitest';
import {
  clockAlignedRounds,
  sequentialRounds,
  WatchLoop,
  watchForCrashes,
} from '../../control/watch-loop.ts';
import type { VantageProber } from '../../fleet/ports.ts';
import { timerClock } from '../../local/control-ports.ts';

const INTERVAL_MS = 5000;
const START_MS = 1_800_000_000_000;

/** A loop whose rounds take `roundMs` and are recorded as [round, start offset]. */
function recordingLoop(roundMs = 100, fail?: (round: number) => boolean) {
  const clock = timerClock(Date.now);
  const started: Array<[number, number]> = [];
  const failed: number[] = [];
  const loop = new WatchLoop({
    schedule: sequentialRounds(INTERVAL_MS, 41),
    clock,
    runRound: async (round) => {
      started.push([round, Date.now() - START_MS]);
      await clock.sleep(roundMs);
      if (fail?.(round)) throw new Error(`round ${round} broke`);
    },
    onRoundFailed: (round) => failed.push(round),
  });
  return { loop, started, failed };
}

/** Stopping waits for the round in progress, whose own sleep needs the fake clock moved on. */
async function stopAfterRound(loop: WatchLoop): Promise<void> {
  const stopped = loop.stop();
  await vi.advanceTimersByTimeAsync(INTERVAL_MS);
  await stopped;
}

describe('the watch loop', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START_MS });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one round per interval, numbered on from the last one recorded', async () => {
    const { loop, started } = recordingLoop();
    loop.start();
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS + 10);
    await stopAfterRound(loop);
    assert.deepEqual(started, [
      [42, 0],
      [43, 5000],
      [44, 10000],
      [45, 15000],
    ]);
  });

  it('starts the next round at once when expedited while waiting, and keeps its pace from there', async () => {
    const { loop, started } = recordingLoop();
    loop.start();
    await vi.advanceTimersByTimeAsync(1200);
    loop.expedite('store-01 task stopped');
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await stopAfterRound(loop);
    assert.deepEqual(started, [
      [42, 0],
      [43, 1200],
      [44, 6200],
    ]);
  });

  it('starts the next round right after the one in progress when expedited during it', async () => {
    const { loop, started } = recordingLoop(800);
    loop.start();
    await vi.advanceTimersByTimeAsync(300);
    loop.expedite('connection dropped');
    await vi.advanceTimersByTimeAsync(600);
    await stopAfterRound(loop);
    assert.deepEqual(started, [
      [42, 0],
      [43, 800],
    ]);
  });

  it('reports a failed round and goes on with the next', async () => {
    const { loop, started, failed } = recordingLoop(100, (round) => round === 42);
    loop.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS + 10);
    await stopAfterRound(loop);
    assert.deepEqual(failed, [42]);
    assert.deepEqual(
      started.map(([round]) => round),
      [42, 43],
    );
  });

  it('turns a stopped task and a dropped connection into an expedited round, until unwatched', () => {
    const expedited: string[] = [];
    let taskStopped: (nodeId: string) => void = () => {};
    let connectionLost: (nodeId: string) => void = () => {};
    const prober: VantageProber = {
      vantageId: 'vp-eu',
      probeRound: async () => {
        throw new Error('not probed in this test');
      },
      onConnectionLost: (listener) => {
        connectionLost = listener;
        return () => {
          connectionLost = () => {};
        };
      },
    };
    const unwatch = watchForCrashes(
      { expedite: (reason) => expedited.push(reason) },
      {
        runtime: {
          onTaskStopped: (listener) => {
            taskStopped = listener;
            return () => {
              taskStopped = () => {};
            };
          },
        },
        probers: [prober],
      },
    );
    taskStopped('store-01');
    connectionLost('store-02');
    unwatch();
    taskStopped('store-03');
    connectionLost('store-04');
    assert.deepEqual(expedited, [
      'store-01: task stopped',
      'store-02: connection from vp-eu dropped',
    ]);
  });
});

describe('round schedules', () => {
  it('clock-aligned rounds: every watcher numbers a round alike, the first at the next boundary', () => {
    const schedule = clockAlignedRounds(5);
    const boundary = 360_000_000 * 5000;
    assert.deepEqual(schedule.next(undefined, boundary), { round: 360_000_000, dueAtMs: boundary });
    assert.deepEqual(schedule.next(undefined, boundary + 1), {
      round: 360_000_001,
      dueAtMs: boundary + 5000,
    });
    // A round run early (a crash signal) keeps its number; the one after waits for its own boundary.
    assert.deepEqual(
      schedule.next({ round: 360_000_001, startedAtMs: boundary + 1200 }, boundary + 1300),
      {
        round: 360_000_002,
        dueAtMs: boundary + 10_000,
      },
    );
    // A watcher that fell behind skips to the current round rather than replaying old ones.
    assert.deepEqual(
      schedule.next({ round: 360_000_001, startedAtMs: boundary }, boundary + 21_000),
      {
        round: 360_000_004,
        dueAtMs: boundary + 21_000,
      },
    );
  });
});
