// Probe rounds against scripted dialers: deadlines, error classes, freshness and dial reuse, without a network.
import assert from 'node:assert/strict';
import { afterEach, describe, it, vi } from 'vitest';
import type { ProbeConfig } from '../../fleet/config.ts';
import type { ProbeResult } from '../../fleet/observations.ts';
import type { ProbeRoundDialer, ProbeRoundRest, ProbeTarget } from '../../probes/probe-round.ts';
import { normaliseNodeHealth, runProbeRound } from '../../probes/probe-round.ts';
import type { StoreQuery, StoreQueryPage } from '../../waku/client/store-types.ts';
import { RateLimitedError, WrongClusterError } from '../../waku/errors.ts';

const NOW_MS = 1_780_000_000_000;
const clock = { nowMs: () => NOW_MS };

function probeConfig(overrides: Partial<ProbeConfig> = {}): ProbeConfig {
  return {
    intervalSeconds: 5,
    pingTimeoutMs: 300,
    metadataTimeoutMs: 300,
    storeTimeoutMs: 300,
    healthTimeoutMs: 300,
    roundDeadlineMs: 500,
    concurrency: 4,
    freshDialEveryRounds: 4,
    freshnessWindowSeconds: 300,
    contentTopics: ['/storefleet/1/probe/proto'],
    maxResponseBytes: 65536,
    ...overrides,
  };
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** A dialer whose behaviour per node is scripted; unscripted nodes answer well. */
function scriptedDialer(
  script: {
    stalled?: Set<string>;
    cluster?: Map<string, number>;
    rateLimited?: Set<string>;
    newestAgeMs?: number;
  } = {},
): ProbeRoundDialer & { pings: { address: string; fresh: boolean | undefined }[] } {
  const pings: { address: string; fresh: boolean | undefined }[] = [];
  return {
    pings,
    async ping(address, { fresh }) {
      pings.push({ address, fresh });
      // A stalled node never answers and ignores the signal, as js-libp2p sometimes does.
      if (script.stalled?.has(address)) return never();
      return { rttMs: 1.5, freshDial: fresh === true };
    },
    async metadata(address) {
      if (script.stalled?.has(address)) return never();
      const clusterId = script.cluster?.get(address) ?? 16;
      if (clusterId !== 16) throw new WrongClusterError(16, clusterId, address);
      return { clusterId, shards: [32] };
    },
    async storeQuery(address, _query: StoreQuery): Promise<StoreQueryPage> {
      if (script.stalled?.has(address)) return never();
      if (script.rateLimited?.has(address)) throw new RateLimitedError(address);
      const timestampNs = BigInt(NOW_MS - (script.newestAgeMs ?? 1000)) * 1_000_000n;
      return {
        requestId: 'r',
        statusCode: 200,
        statusDesc: 'OK',
        messages: [
          {
            hash: '0x01',
            message: { payload: new Uint8Array(), contentTopic: 'c', timestampNs },
          },
          {
            hash: '0x02',
            message: {
              payload: new Uint8Array(),
              contentTopic: 'c',
              timestampNs: timestampNs - 5_000_000_000n,
            },
          },
        ],
      };
    },
  };
}

const targets: ProbeTarget[] = ['a', 'b', 'c'].map((name) => ({
  nodeId: `store-0${name.charCodeAt(0) - 96}.eu-central.storefleet.test`,
  multiaddr: `/ip4/127.0.0.1/tcp/6000${name.charCodeAt(0) - 96}/p2p/${name}`,
  restUrl: `http://127.0.0.1:864${name.charCodeAt(0) - 96}`,
}));
const [first, second, third] = targets as [ProbeTarget, ProbeTarget, ProbeTarget];

const healthyRest: ProbeRoundRest = {
  async health() {
    return { statusCode: 200, nodeHealth: 'Ready' };
  },
};

function byNodeAndKind(results: readonly ProbeResult[], nodeId: string, kind: string): ProbeResult {
  const found = results.find((r) => r.nodeId === nodeId && r.kind === kind);
  assert.ok(found, `no ${kind} result for ${nodeId}`);
  return found;
}

/** `promise`, and whether it has settled yet: to check when a round ends under fake timers. */
function settledFlag<T>(promise: Promise<T>): { promise: Promise<T>; settled: boolean } {
  const flagged = { promise, settled: false };
  promise.then(
    () => {
      flagged.settled = true;
    },
    () => {
      flagged.settled = true;
    },
  );
  return flagged;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a probe round', () => {
  it('reports a stalled node as timeouts at the deadline while the others report normally', async () => {
    // Prepare: the timers are fake, so the deadline is checked to the millisecond, not with a margin.
    vi.useFakeTimers();
    const dialer = scriptedDialer({ stalled: new Set([second.multiaddr]) });

    // Act
    const pending = settledFlag(
      runProbeRound(
        { dialer, rest: healthyRest, clock },
        {
          vantage: { id: 'vp-eu', reachesRest: true },
          round: 1,
          targets,
          probe: probeConfig(),
          clusterId: 16,
          pubsubTopic: '/waku/2/rs/16/32',
        },
      ),
    );
    await vi.advanceTimersByTimeAsync(499);
    assert.equal(pending.settled, false, 'the round ended before its 500 ms deadline');
    await vi.advanceTimersByTimeAsync(1);
    assert.equal(pending.settled, true, 'the round outlived its 500 ms deadline');
    const round = await pending.promise;

    // Assess
    for (const kind of ['ping', 'metadata', 'store'] as const) {
      const stalled = byNodeAndKind(round.results, second.nodeId, kind);
      assert.equal(stalled.ok, false);
      assert.equal(stalled.errorClass, 'timeout');
    }
    for (const target of [first, third]) {
      for (const kind of ['ping', 'metadata', 'store', 'health'] as const) {
        assert.equal(byNodeAndKind(round.results, target.nodeId, kind).ok, true, kind);
      }
    }
    // REST health is independent of the stalled libp2p side.
    assert.equal(byNodeAndKind(round.results, second.nodeId, 'health').ok, true);
  });

  it('reports probes that could not start before the deadline as timeouts', async () => {
    // Prepare: one lane, the first node stalls, so the other two never get a turn in time.
    vi.useFakeTimers();
    const dialer = scriptedDialer({ stalled: new Set([first.multiaddr]) });

    // Act
    const pending = settledFlag(
      runProbeRound(
        { dialer, clock },
        {
          vantage: { id: 'vp-us', reachesRest: false },
          round: 1,
          targets,
          probe: probeConfig({ concurrency: 1, pingTimeoutMs: 400, roundDeadlineMs: 400 }),
          clusterId: 16,
          pubsubTopic: '/waku/2/rs/16/32',
        },
      ),
    );
    await vi.advanceTimersByTimeAsync(400);
    assert.equal(pending.settled, true, 'the round outlived its 400 ms deadline');
    const round = await pending.promise;

    // Assess
    assert.equal(round.results.length, targets.length * 3);
    assert.ok(round.results.every((r) => r.errorClass === 'timeout'));
    assert.ok(!round.results.some((r) => r.kind === 'health'));
    assert.deepEqual(
      dialer.pings.map((p) => p.address),
      [first.multiaddr],
    );
  });

  it('classifies a wrong cluster and a rate-limited store', async () => {
    // Prepare
    const dialer = scriptedDialer({
      cluster: new Map([[first.multiaddr, 1]]),
      rateLimited: new Set([third.multiaddr]),
    });

    // Act
    const round = await runProbeRound(
      { dialer, clock },
      {
        vantage: { id: 'vp-eu', reachesRest: true },
        round: 2,
        targets,
        probe: probeConfig(),
        clusterId: 16,
        pubsubTopic: '/waku/2/rs/16/32',
      },
    );

    // Assess
    const wrong = byNodeAndKind(round.results, first.nodeId, 'metadata');
    assert.equal(wrong.errorClass, 'wrong_cluster');
    assert.equal(wrong.clusterId, 1);
    const limited = byNodeAndKind(round.results, third.nodeId, 'store');
    assert.equal(limited.errorClass, 'rate_limited');
    assert.equal(limited.statusCode, 429);
  });

  it('measures freshness as the age of the newest message returned', async () => {
    // Prepare
    const dialer = scriptedDialer({ newestAgeMs: 42_000 });

    // Act
    const round = await runProbeRound(
      { dialer, clock },
      {
        vantage: { id: 'vp-eu', reachesRest: false },
        round: 3,
        targets: [first],
        probe: probeConfig(),
        clusterId: 16,
        pubsubTopic: '/waku/2/rs/16/32',
      },
    );

    // Assess
    assert.equal(byNodeAndKind(round.results, first.nodeId, 'store').newestMessageAgeMs, 42_000);
  });

  it('dials fresh every freshDialEveryRounds rounds and reuses the connection otherwise', async () => {
    // Prepare
    const dialer = scriptedDialer();
    const input = {
      vantage: { id: 'vp-eu', reachesRest: false },
      targets: [first],
      probe: probeConfig({ freshDialEveryRounds: 3 }),
      clusterId: 16,
      pubsubTopic: '/waku/2/rs/16/32',
    };

    // Act
    for (let round = 0; round < 6; round++)
      await runProbeRound({ dialer, clock }, { ...input, round });

    // Assess
    assert.deepEqual(
      dialer.pings.map((p) => p.fresh),
      [true, false, false, true, false, false],
    );
  });

  it('reports a node that is up but not ready as unhealthy', async () => {
    // Prepare
    const rest: ProbeRoundRest = {
      async health() {
        return { statusCode: 200, nodeHealth: 'Initializing' };
      },
    };

    // Act
    const round = await runProbeRound(
      { dialer: scriptedDialer(), rest, clock },
      {
        vantage: { id: 'vp-eu', reachesRest: true },
        round: 1,
        targets: [first],
        probe: probeConfig(),
        clusterId: 16,
        pubsubTopic: '/waku/2/rs/16/32',
      },
    );

    // Assess
    const health = byNodeAndKind(round.results, first.nodeId, 'health');
    assert.equal(health.ok, false);
    assert.equal(health.errorClass, 'unhealthy');
    assert.equal(health.nodeHealth, 'INITIALIZING');
  });

  it('accepts both spellings of nwaku health states', () => {
    assert.equal(normaliseNodeHealth('Not Ready'), 'NOT_READY');
    assert.equal(normaliseNodeHealth('NOT_READY'), 'NOT_READY');
    assert.equal(normaliseNodeHealth('Ready'), 'READY');
  });
});
