// Whatever libp2p or fetch throws, a Waku call fails with one WakuError class; raceDeadline keeps the deadline of a call that never settles.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { raceDeadline, toWakuError } from '../../../waku/client/deadline.ts';
import {
  ConnectionLostError,
  ConnectionRefusedError,
  PeerIdMismatchError,
  ProtocolUnsupportedError,
  StoreError,
  WakuTimeoutError,
} from '../../../waku/errors.ts';

const ADDRESS = '/ip4/127.0.0.1/tcp/60000/p2p/16Uiu2HAmExample';
const DEADLINE_MS = 50;
const MARGIN_MS = 300;

function named(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name }, extra);
}

function classify(error: unknown, signal = new AbortController().signal) {
  return toWakuError(error, { address: ADDRESS, what: 'store query', signal, protocol: '/p' });
}

describe('failures are typed by their cause', () => {
  it('finds a refusal inside libp2p dial errors', () => {
    const dialError = new AggregateError(
      [named('Error', 'connect ECONNREFUSED 127.0.0.1:60000', { code: 'ECONNREFUSED' })],
      'All multiaddr dials failed',
    );
    assert.ok(classify(dialError) instanceof ConnectionRefusedError);
    assert.ok(
      classify(new TypeError('fetch failed', { cause: dialError.errors[0] })) instanceof
        ConnectionRefusedError,
    );
  });

  it('types an unsupported protocol', () => {
    const error = classify(named('UnsupportedProtocolError', 'protocol selection failed'));
    assert.ok(error instanceof ProtocolUnsupportedError);
    assert.equal(error.errorClass, 'protocol_unsupported');
  });

  it('types another key answering the noise handshake as a peer id mismatch', () => {
    // libp2p's upgrader keeps only the message of noise's UnexpectedPeerError.
    const error = classify(
      named(
        'EncryptionFailedError',
        'Payload identity key 16Uiu2HAmNew does not match expected remote identity key 16Uiu2HAmOld',
      ),
    );
    assert.ok(error instanceof PeerIdMismatchError);
    assert.equal(error.errorClass, 'refused');
    assert.equal(classify(named('EncryptionFailedError', 'stream ended')).errorClass, 'unknown');
  });

  it('types resets and closed streams as a lost connection', () => {
    for (const cause of [
      named('StreamResetError', 'The stream has been reset'),
      named('ConnectionClosedError', 'The connection muxer is "closed" and not "open"'),
      named('StreamStateError', 'Cannot write to a stream that is closed'),
      named('Error', 'read ECONNRESET', { code: 'ECONNRESET' }),
    ]) {
      const error = classify(cause);
      assert.ok(error instanceof ConnectionLostError, cause.message);
      assert.equal(error.errorClass, 'refused');
    }
  });

  it('calls anything once the deadline passed a timeout', () => {
    const controller = new AbortController();
    controller.abort();
    assert.ok(
      classify(named('StreamResetError', 'reset'), controller.signal) instanceof WakuTimeoutError,
    );
  });

  it('keeps typed errors and marks the rest unknown', () => {
    const storeError = new StoreError(ADDRESS, 503, 'unavailable');
    assert.equal(classify(storeError), storeError);
    assert.equal(classify(new RangeError('something else')).errorClass, 'unknown');
  });

  it('rejects at the deadline even when the call never settles', async () => {
    // Prepare
    const startedAt = performance.now();

    // Act
    const outcome = raceDeadline(
      new Promise<never>(() => {}),
      AbortSignal.timeout(DEADLINE_MS),
      'ping',
    );

    // Assess
    await assert.rejects(outcome, WakuTimeoutError);
    assert.ok(performance.now() - startedAt <= DEADLINE_MS + MARGIN_MS);
  });
});
