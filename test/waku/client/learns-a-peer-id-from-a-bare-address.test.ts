// A node's peer id is learnt by dialling its bare TCP address: the noise handshake proves who answers, within the caller's deadline.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createProbeDialer, type ProbeDialer } from '../../../waku/client/dialer.ts';
import {
  ConnectionRefusedError,
  PeerIdMismatchError,
  WakuTimeoutError,
} from '../../../waku/errors.ts';
import { CLUSTER_ID, type LocalNode, SHARD, startLocalNode } from './local-node.ts';

/** Room for a dial and a secp256k1 handshake on a loaded 2-core machine. */
const ANSWER_DEADLINE_MS = 5000;
const STALL_DEADLINE_MS = 400;
/** Timer and event-loop slack allowed past a deadline on a loaded 2-core machine. */
const MARGIN_MS = 300;

function bareAddress(fullAddress: string): string {
  return fullAddress.replace(/\/p2p\/[^/]+$/, '');
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('learning a peer id from a bare address', () => {
  let local: LocalNode;
  let dialer: ProbeDialer;

  beforeAll(async () => {
    local = await startLocalNode();
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [SHARD] });
  });

  afterAll(async () => {
    await dialer.stop();
    await local.stop();
  });

  it('returns the node peer id and keeps the connection for the full address', async () => {
    // Prepare
    const address = bareAddress(local.node.tcpAddress);
    assert.ok(!address.includes('/p2p/'));

    // Act
    const learned = await dialer.learnPeerId(address, {
      signal: AbortSignal.timeout(ANSWER_DEADLINE_MS),
    });
    const ping = await dialer.ping(learned.address, {
      signal: AbortSignal.timeout(ANSWER_DEADLINE_MS),
    });

    // Assess
    assert.equal(learned.peerId, local.node.peerId);
    assert.equal(learned.address, local.node.tcpAddress);
    assert.equal(ping.freshDial, false, 'the ping rides on the connection the lookup opened');
  });

  it('types another key answering at a /p2p/ address as a peer id mismatch', async () => {
    // Prepare: the address the directory would hold after the node key was rotated.
    const formerPeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    const staleAddress = `${bareAddress(local.node.tcpAddress)}/p2p/${formerPeerId}`;

    // Act
    const outcome = dialer.learnPeerId(staleAddress, {
      signal: AbortSignal.timeout(ANSWER_DEADLINE_MS),
    });

    // Assess
    await assert.rejects(outcome, (error) => {
      assert.ok(error instanceof PeerIdMismatchError, String(error));
      assert.equal(error.errorClass, 'refused');
      return true;
    });
  });

  it('types a closed port as refused', async () => {
    // Prepare: a port that was just free, so nothing listens there.
    const server = createServer();
    const port = await listen(server);
    await closeServer(server);

    // Act
    const outcome = dialer.learnPeerId(`/ip4/127.0.0.1/tcp/${port}`, {
      signal: AbortSignal.timeout(ANSWER_DEADLINE_MS),
    });

    // Assess
    await assert.rejects(outcome, (error) => {
      assert.ok(error instanceof ConnectionRefusedError, String(error));
      assert.equal(error.errorClass, 'refused');
      return true;
    });
  });

  it('times out within the deadline on a listener that accepts and never speaks', async () => {
    // Prepare
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
    });
    const port = await listen(server);
    const startedAt = performance.now();

    // Act
    let outcome: unknown;
    try {
      outcome = await dialer.learnPeerId(`/ip4/127.0.0.1/tcp/${port}`, {
        signal: AbortSignal.timeout(STALL_DEADLINE_MS),
      });
    } catch (error) {
      outcome = error;
    }
    const elapsedMs = performance.now() - startedAt;
    for (const socket of sockets) socket.destroy();
    await closeServer(server);

    // Assess
    assert.ok(outcome instanceof WakuTimeoutError, String(outcome));
    assert.ok(sockets.length > 0, 'the dialer reached the listener');
    assert.ok(
      elapsedMs <= STALL_DEADLINE_MS + MARGIN_MS,
      `took ${elapsedMs} ms, deadline ${STALL_DEADLINE_MS} ms`,
    );
  });
});
