// Any vantage point, with or without REST, learns node peer ids from the noise handshake of a dial to the bare TCP address, and re-learns them after a key change.
import assert from 'node:assert/strict';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { identityFromHandshake } from '../../../control/node-addresses.ts';
import { roundNumber, roundStartMs } from '../../../control/rounds.ts';
import { createProbeHandler } from '../../../lambdas/probe/probe-handler.ts';
import {
  fakeContext,
  type LocalFleet,
  localProbeDeps,
  NODE_IDS,
  startLocalFleet,
  virtualClock,
} from './local-fleet-fixture.ts';

const INTERVAL_SECONDS = 5;
/** Round numbers in the past, distinct per test, so each test reads only its own rounds. */
const baseRound = roundNumber(Date.now(), INTERVAL_SECONDS) - 1000;
const [FIRST_NODE, SECOND_NODE] = NODE_IDS as [string, string];
/** Invocations start this long before the round boundary: room for the dials that learn peer ids. */
const LEAD_MS = 2000;

let fleet: LocalFleet;

function probeHandlerFor(vantageId: string, round: number, loopSeconds = INTERVAL_SECONDS) {
  const clock = virtualClock(roundStartMs(round, INTERVAL_SECONDS) - LEAD_MS);
  const handler = createProbeHandler(localProbeDeps(fleet, { vantageId, loopSeconds, clock }));
  return () => handler({}, fakeContext(`probe-${vantageId}`, clock));
}

async function pingsOf(round: number, vantageId: string) {
  const recorded = (await fleet.store.probeRounds(round)).find((r) => r.vantageId === vantageId);
  return new Map(
    (recorded?.results ?? [])
      .filter((probe) => probe.kind === 'ping')
      .map((probe) => [probe.nodeId, probe]),
  );
}

function peerIdOf(nodeId: string): string {
  const node = fleet.nodes.get(nodeId);
  assert.ok(node, nodeId);
  return node.peerId;
}

beforeAll(async () => {
  fleet = await startLocalFleet();
});

afterAll(async () => {
  await fleet.close();
});

describe('the probe handler learns peer ids by dialling', () => {
  it('a vantage point without REST and an empty directory probes every node under its real peer id', async () => {
    // Prepare
    assert.equal((await fleet.directory.all()).size, 0);
    const invoke = probeHandlerFor('vp-us', baseRound);

    // Act
    const result = await invoke();

    // Assess
    assert.deepEqual(result.identified, []);
    assert.deepEqual(result.learnedPeerIds, [...NODE_IDS].sort());
    assert.deepEqual(result.unreachable, []);
    assert.deepEqual(result.rounds, [baseRound]);
    const identities = await fleet.directory.all();
    for (const nodeId of NODE_IDS) {
      assert.equal(identities.get(nodeId)?.peerId, peerIdOf(nodeId));
      assert.equal(identities.get(nodeId)?.enr, undefined, 'a handshake tells no ENR');
    }
    // Pings dial /p2p/{peer id}: they succeed only if the learnt peer id is the node's.
    const pings = await pingsOf(baseRound, 'vp-us');
    assert.deepEqual([...pings.keys()].sort(), [...NODE_IDS].sort());
    for (const ping of pings.values()) assert.equal(ping.ok, true, ping.errorMessage);
  });

  it('keeps the ENR a REST-reaching vantage point recorded when the handshake shows the same peer id', async () => {
    // Prepare: REST adds the ENR to the learnt peer id.
    const restRound = await probeHandlerFor('vp-eu', baseRound + 10)();
    assert.deepEqual(restRound.identified, [...NODE_IDS].sort());
    const withEnr = await fleet.directory.all();
    const enr = withEnr.get(FIRST_NODE)?.enr;
    assert.ok(enr?.startsWith('enr:'), 'the local node gives an ENR over REST');

    // Act: a later handshake of the same peer id, and another invocation without REST.
    const written = await fleet.directory.recordLearnedPeerId(
      identityFromHandshake(FIRST_NODE, peerIdOf(FIRST_NODE), Date.now() + 60_000),
    );
    const withoutRest = await probeHandlerFor('vp-us', baseRound + 11)();

    // Assess
    assert.equal(written, false);
    assert.deepEqual(withoutRest.learnedPeerIds, []);
    const after = await fleet.directory.all();
    assert.equal(after.get(FIRST_NODE)?.enr, enr);
    assert.deepEqual(
      after.get(FIRST_NODE)?.listenAddresses,
      withEnr.get(FIRST_NODE)?.listenAddresses,
    );
  });

  it('re-learns a node that answers with another key than recorded, from the next round on', async () => {
    // Prepare: the directory still names the key the node had before it was rotated.
    const formerPeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    const current = (await fleet.directory.all()).get(SECOND_NODE);
    assert.ok(current);
    await fleet.directory.record({
      ...current,
      peerId: formerPeerId,
      observedAtMs: current.observedAtMs - 1,
    });
    const firstRound = baseRound + 20;

    // Act: two rounds in one invocation.
    const result = await probeHandlerFor('vp-us', firstRound, 2 * INTERVAL_SECONDS)();

    // Assess
    assert.deepEqual(result.rounds, [firstRound, firstRound + 1]);
    assert.deepEqual(result.learnedPeerIds, [SECOND_NODE]);
    const mismatch = (await pingsOf(firstRound, 'vp-us')).get(SECOND_NODE);
    assert.equal(mismatch?.ok, false);
    assert.equal(mismatch?.errorClass, 'refused');
    assert.match(mismatch?.errorMessage ?? '', /another peer id/);
    const relearnt = await pingsOf(firstRound + 1, 'vp-us');
    assert.equal(relearnt.get(SECOND_NODE)?.ok, true, relearnt.get(SECOND_NODE)?.errorMessage);
    assert.equal(relearnt.get(FIRST_NODE)?.ok, true);
    const recorded = (await fleet.directory.all()).get(SECOND_NODE);
    assert.equal(recorded?.peerId, peerIdOf(SECOND_NODE));
    assert.equal(recorded?.enr, undefined, "the former key's ENR is not kept with the new key");
  });

  it('never lets a handshake older than the recorded identity undo it', async () => {
    // Prepare: a prober that dialled before the key change reports the former key late.
    const recorded = (await fleet.directory.all()).get(SECOND_NODE);
    assert.ok(recorded);
    const formerPeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();

    // Act
    const written = await fleet.directory.recordLearnedPeerId(
      identityFromHandshake(SECOND_NODE, formerPeerId, recorded.observedAtMs - 1),
    );

    // Assess
    assert.equal(written, false);
    assert.deepEqual((await fleet.directory.all()).get(SECOND_NODE), recorded);
  });
});
