// Status does not autoshard: probed pubsub topics are explicit config, default every shard the fleet serves, and freshness is measured on each.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { FleetConfigError, parseFleetConfig, probedPubsubTopics } from '../../fleet/config.ts';
import { runProbeRound } from '../../probes/probe-round.ts';
import { createProbeDialer, type ProbeDialer } from '../../waku/client/dialer.ts';
import { pubsubTopic } from '../../waku/protocols.ts';
import { startTestNode } from '../waku/node/fixtures.ts';
import { CONTENT_TOPIC, fastProbeConfig } from './local-fleet.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'config', 'fleet.example.json');
const CLUSTER_ID = 16;

describe('probed pubsub topics in the fleet config', () => {
  const example = () => JSON.parse(readFileSync(EXAMPLE, 'utf8'));

  it('default to every shard the fleet serves', () => {
    const config = parseFleetConfig({ ...example(), clusterId: 16, shards: [1, 32, 64] });
    assert.deepEqual(probedPubsubTopics(config), [
      '/waku/2/rs/16/1',
      '/waku/2/rs/16/32',
      '/waku/2/rs/16/64',
    ]);
  });

  it('are taken as given, and a shard the fleet does not serve is refused naming the field', () => {
    const input = example();
    const explicit = parseFleetConfig({
      ...input,
      clusterId: 16,
      shards: [32, 64],
      probe: { ...input.probe, pubsubTopics: ['/waku/2/rs/16/64'] },
    });
    assert.deepEqual(probedPubsubTopics(explicit), ['/waku/2/rs/16/64']);
    assert.throws(
      () =>
        parseFleetConfig({
          ...input,
          clusterId: 16,
          shards: [32],
          probe: { ...input.probe, pubsubTopics: ['/waku/2/rs/16/32', '/waku/2/rs/1/256'] },
        }),
      (error: unknown) =>
        error instanceof FleetConfigError &&
        error.issues.length === 1 &&
        /^probe\.pubsubTopics\[1\]: .*not a shard the fleet serves/.test(error.issues[0] ?? ''),
    );
  });
});

describe('freshness per shard against a local node', () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let dialer: ProbeDialer;

  beforeAll(async () => {
    node = await startTestNode({ clusterId: CLUSTER_ID, shards: [32, 64] });
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [32, 64] });
  });

  afterAll(async () => {
    await dialer.stop();
    await node.stop();
    node.removeDataDir();
  });

  it('reports each shard on its own, so a silent shard shows beside a busy one', async () => {
    // Prepare: traffic on shard 32 only, on a content topic the prober was never told about.
    const nowMs = Date.now();
    await node.publish({
      contentTopic: '/status/1/some-chat/proto',
      payload: Uint8Array.of(1),
      timestampNs: BigInt(nowMs - 2_000) * 1_000_000n,
      pubsubTopic: pubsubTopic(CLUSTER_ID, 32),
    });

    // Act
    const round = await runProbeRound(
      { dialer, clock: { nowMs: () => nowMs } },
      {
        vantage: { id: 'vp-test', reachesRest: false },
        round: 1,
        targets: [{ nodeId: 'store-01.test.status.prod', multiaddr: node.tcpAddress }],
        probe: fastProbeConfig({ contentTopics: [CONTENT_TOPIC] }),
        clusterId: CLUSTER_ID,
        pubsubTopic: pubsubTopic(CLUSTER_ID, 32),
        pubsubTopics: [pubsubTopic(CLUSTER_ID, 32), pubsubTopic(CLUSTER_ID, 64)],
      },
    );

    // Assess
    const store = round.results.find((result) => result.kind === 'store');
    assert.equal(store?.ok, true, store?.errorMessage);
    assert.deepEqual(
      store?.shards?.map((shard) => [shard.pubsubTopic, shard.newestMessageAgeMs]),
      [
        ['/waku/2/rs/16/32', 2_000],
        ['/waku/2/rs/16/64', null],
      ],
    );
    assert.equal(store?.newestMessageAgeMs, 2_000);
  });
});
