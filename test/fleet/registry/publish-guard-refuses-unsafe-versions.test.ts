// assertPublishable lets through only a valid, signed, unexpired, newer fleets.json, and says why otherwise.
import assert from 'node:assert/strict';
import { beforeAll, describe, it } from 'vitest';
import type { RegistryArtifacts } from '../../../fleet/ports.ts';
import { encodeRegistryDocument } from '../../../fleet/registry/encoding.ts';
import {
  type UnpublishableReason,
  UnpublishableRegistryError,
} from '../../../fleet/registry/errors.ts';
import { buildFleetsJson } from '../../../fleet/registry/fleets-json.ts';
import {
  assertArtifactsPublishable,
  assertPublishable,
  type PublishCandidate,
} from '../../../fleet/registry/publish-guard.ts';
import { buildRegistryJson } from '../../../fleet/registry/registry-json.ts';
import { generateRegistryKeyPem, registrySignerFromPem } from '../../../local/file-signer.ts';
import { sixStoreNodes } from './fixtures.ts';

const NOW_MS = Date.UTC(2026, 0, 21, 6, 0, 0);
const SEQUENCE = 12;
const signer = registrySignerFromPem(generateRegistryKeyPem(), 'test key');
const otherSigner = registrySignerFromPem(generateRegistryKeyPem(), 'other key');
const built = buildFleetsJson({
  fleet: 'status.prod',
  hostname: 'storefleet',
  sequence: SEQUENCE,
  nowMs: NOW_MS,
  expiresAfterSeconds: 900,
  nodes: sixStoreNodes(),
});
let good: PublishCandidate;

beforeAll(async () => {
  good = {
    document: built.document,
    bytes: built.bytes,
    signature: await signer.sign(built.bytes),
    publicKeyPem: await signer.publicKeyPem(),
    nowMs: NOW_MS + 1000,
    lastSequence: SEQUENCE - 1,
  };
});

function refusal(candidate: PublishCandidate): UnpublishableRegistryError {
  try {
    assertPublishable(candidate);
  } catch (error) {
    assert.ok(
      error instanceof UnpublishableRegistryError,
      `expected UnpublishableRegistryError, got ${error}`,
    );
    return error;
  }
  assert.fail('expected assertPublishable to refuse');
}

async function signed(document: unknown): Promise<Pick<PublishCandidate, 'bytes' | 'signature'>> {
  const bytes = encodeRegistryDocument(document);
  return { bytes, signature: await signer.sign(bytes) };
}

describe('publishes a good version', () => {
  it('accepts a valid, signed, unexpired fleets.json above the last sequence and returns its sequence', () => {
    assert.equal(assertPublishable(good), SEQUENCE);
  });

  it('accepts the artifacts a RegistryPublisher receives, with registry.json of the same version', async () => {
    // Prepare
    const registry = buildRegistryJson({
      fleet: 'status.prod',
      hostname: 'storefleet',
      sequence: SEQUENCE,
      nowMs: NOW_MS,
      nodes: [],
    });
    const artifacts: RegistryArtifacts = {
      sequence: SEQUENCE,
      fleetsJson: good.bytes,
      fleetsJsonSignature: good.signature as Uint8Array,
      registryJson: registry.bytes,
      publicKeyPem: good.publicKeyPem as string,
      cacheMaxAgeSeconds: 30,
    };

    // Act + Assess
    assert.equal(
      assertArtifactsPublishable(artifacts, { nowMs: NOW_MS, lastSequence: 0 }),
      SEQUENCE,
    );
    const labelledWrong = { ...artifacts, sequence: SEQUENCE + 1 };
    assert.throws(
      () => assertArtifactsPublishable(labelledWrong, { nowMs: NOW_MS, lastSequence: 0 }),
      (error: unknown) =>
        error instanceof UnpublishableRegistryError && error.reason === 'mismatch',
    );
    const otherVersion = buildRegistryJson({
      fleet: 'status.prod',
      hostname: 'h',
      sequence: SEQUENCE - 1,
      nowMs: NOW_MS,
      nodes: [],
    });
    assert.throws(
      () =>
        assertArtifactsPublishable(
          { ...artifacts, registryJson: otherVersion.bytes },
          { nowMs: NOW_MS, lastSequence: 0 },
        ),
      /registry\.json has meta\.sequence 11 but fleets\.json has 12/,
    );
  });
});

describe('refuses what clients must not see, naming the reason', () => {
  const cases: Array<
    [string, UnpublishableReason, () => Promise<Partial<PublishCandidate>>, RegExp]
  > = [
    [
      'bytes that are not a Status fleets.json',
      'invalid',
      async () => ({
        ...(await signed({ meta: { hostname: 'h' }, fleets: {} })),
        document: undefined,
      }),
      /meta\.timestamp/,
    ],
    [
      'a version without meta.sequence',
      'invalid',
      async () => {
        const { sequence: _, ...meta } = built.document.meta;
        return { ...(await signed({ ...built.document, meta })), document: undefined };
      },
      /meta\.sequence is missing/,
    ],
    [
      'bytes that are not the given document',
      'mismatch',
      async () =>
        signed({ ...built.document, meta: { ...built.document.meta, hostname: 'other' } }),
      /do not encode the given document/,
    ],
    [
      'a registry that lists no node',
      'empty',
      async () => {
        const document = {
          ...built.document,
          fleets: { 'status.prod': { 'tcp/p2p/waku/store': {} } },
        };
        return { ...(await signed(document)), document };
      },
      /no fleet lists any node/,
    ],
    [
      'a missing signature',
      'unsigned',
      async () => ({ signature: undefined }),
      /no signature was given/,
    ],
    [
      'an empty signature',
      'unsigned',
      async () => ({ signature: new Uint8Array(0) }),
      /no signature/,
    ],
    [
      'a missing public key',
      'unsigned',
      async () => ({ publicKeyPem: undefined }),
      /no public key/,
    ],
    [
      'a signature by another key',
      'bad_signature',
      async () => ({ signature: await otherSigner.sign(built.bytes) }),
      /does not verify against the public key/,
    ],
    [
      'a signature of other bytes',
      'bad_signature',
      async () => ({ signature: await signer.sign(new Uint8Array([1])) }),
      /does not verify/,
    ],
    [
      'a public key that is not P-256',
      'bad_signature',
      async () => ({ publicKeyPem: 'garbage' }),
      /not a PEM public key/,
    ],
    [
      'a version that expired',
      'expired',
      async () => ({ nowMs: NOW_MS + 900_000 }),
      /meta\.expires 2026-01-21T06:15:00\.000Z is not after now/,
    ],
    [
      'the sequence already published',
      'stale_sequence',
      async () => ({ lastSequence: SEQUENCE }),
      /not above the published 12; rebuild with sequence 13/,
    ],
    [
      'an older sequence',
      'stale_sequence',
      async () => ({ lastSequence: SEQUENCE + 5 }),
      /meta\.sequence 12 is not above/,
    ],
  ];
  for (const [what, reason, change, message] of cases) {
    it(`refuses ${what} (${reason})`, async () => {
      // Prepare
      const candidate = { ...good, ...(await change()) };

      // Act
      const error = refusal(candidate);

      // Assess
      assert.equal(error.reason, reason);
      assert.match(error.message, message);
      assert.match(error.message, /^refusing to publish fleets\.json/);
    });
  }
});
