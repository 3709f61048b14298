// verifyFleetsJson applies a client's rules: format, signature, expiry, no rollback.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  ExpiredRegistryError,
  InvalidRegistryError,
  RolledBackRegistryError,
  SigningKeyConfigError,
  UnverifiedRegistryError,
} from '../../../fleet/registry/errors.ts';
import { buildFleetsJson } from '../../../fleet/registry/fleets-json.ts';
import { verifyFleetsJson } from '../../../fleet/registry/verify.ts';
import { generateRegistryKeyPem, registrySignerFromPem } from '../../../local/file-signer.ts';
import { sixStoreNodes, statusShapedFleetsJson } from './fixtures.ts';

const NOW_MS = Date.UTC(2026, 0, 21, 7, 0, 0);
const signer = registrySignerFromPem(generateRegistryKeyPem(), 'test key');
const { bytes } = buildFleetsJson({
  fleet: 'status.prod',
  hostname: 'storefleet',
  sequence: 5,
  nowMs: NOW_MS,
  expiresAfterSeconds: 600,
  nodes: sixStoreNodes(),
});

describe('trusts a good registry', () => {
  it('returns a summary and the signing key for a signed, fresh registry', async () => {
    // Prepare
    const signature = { der: await signer.sign(bytes), publicKeyPem: await signer.publicKeyPem() };

    // Act
    const verified = verifyFleetsJson({ bytes, signature, nowMs: NOW_MS + 1, minSequence: 5 });

    // Assess
    assert.equal(verified.signedBy, signer.keyId);
    assert.deepEqual(verified.summary, {
      hostname: 'storefleet',
      timestamp: '2026-01-21T07:00:00.000Z',
      sequence: 5,
      expires: '2026-01-21T07:10:00.000Z',
      fleets: [
        {
          fleet: 'status.prod',
          kinds: [
            { kind: 'tcp/p2p/waku', nodes: 6 },
            { kind: 'tcp/p2p/waku/store', nodes: 6 },
            { kind: 'wss/p2p/waku/store', nodes: 6 },
            { kind: 'enr/p2p/waku/store', nodes: 6 },
          ],
        },
      ],
      addresses: 24,
    });
  });

  it('accepts an unsigned Status file without expiry', () => {
    const legacy = new TextEncoder().encode(JSON.stringify(statusShapedFleetsJson()));
    const verified = verifyFleetsJson({ bytes: legacy, nowMs: NOW_MS });
    assert.equal(verified.signedBy, undefined);
    assert.equal(verified.summary.sequence, undefined);
    assert.equal(verified.summary.fleets.length, 4);
  });
});

describe('refuses a registry a client must not trust', () => {
  it('refuses one whose signature does not verify', async () => {
    const other = registrySignerFromPem(generateRegistryKeyPem(), 'other key');
    const signature = {
      der: await other.sign(bytes),
      publicKeyPem: await signer.publicKeyPem(),
      source: 'fleets.json.sig',
    };
    assert.throws(
      () => verifyFleetsJson({ bytes, signature, nowMs: NOW_MS }),
      (error: unknown) => {
        assert.ok(error instanceof UnverifiedRegistryError);
        assert.match(
          error.message,
          /^fleets\.json\.sig does not verify fleets\.json against key sha256:[0-9a-f]{64}; /,
        );
        return true;
      },
    );
  });

  it('refuses a signature file that is not a DER signature, and a key that is not P-256', async () => {
    const publicKeyPem = await signer.publicKeyPem();
    assert.throws(
      () => verifyFleetsJson({ bytes, signature: { der: undefined, publicKeyPem }, nowMs: NOW_MS }),
      UnverifiedRegistryError,
    );
    assert.throws(
      () =>
        verifyFleetsJson({
          bytes,
          signature: { der: new Uint8Array(8), publicKeyPem: 'nope' },
          nowMs: NOW_MS,
        }),
      SigningKeyConfigError,
    );
  });

  it('refuses an expired registry, at the expiry instant and after', () => {
    for (const nowMs of [NOW_MS + 600_000, NOW_MS + 3_600_000]) {
      assert.throws(
        () => verifyFleetsJson({ bytes, nowMs }),
        (error: unknown) => {
          assert.ok(error instanceof ExpiredRegistryError);
          assert.match(error.message, /^meta\.expires 2026-01-21T07:10:00\.000Z is not after /);
          return true;
        },
      );
    }
  });

  it('refuses a sequence lower than one already seen, and a malformed file', () => {
    assert.throws(
      () => verifyFleetsJson({ bytes, nowMs: NOW_MS, minSequence: 6 }),
      RolledBackRegistryError,
    );
    assert.throws(
      () => verifyFleetsJson({ bytes: new TextEncoder().encode('[]'), nowMs: NOW_MS }),
      InvalidRegistryError,
    );
  });
});
