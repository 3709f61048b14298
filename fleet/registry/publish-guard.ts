// The last check before any publisher (local directory, S3) writes a new fleets.json version.
import type { RegistryArtifacts } from '../ports.ts';
import { sameJsonValue } from './encoding.ts';
import {
  InvalidRegistryError,
  SigningKeyConfigError,
  UnpublishableRegistryError,
} from './errors.ts';
import { countAddresses } from './fleets-json.ts';
import { type FleetsJson, parseFleetsJsonBytes } from './fleets-json-schema.ts';
import { parseRegistryJson } from './registry-json.ts';
import { verifyRegistrySignature } from './signer.ts';

export interface PublishCandidate {
  /** The document the publisher believes it publishes; when given, `bytes` must encode it. */
  document?: FleetsJson;
  /** The exact bytes that will be written, and that `signature` covers. */
  bytes: Uint8Array;
  /** DER ECDSA P-256 signature of `bytes`; undefined when signing did not happen. */
  signature: Uint8Array | undefined;
  publicKeyPem: string | undefined;
  nowMs: number;
  /** Sequence of the version currently published (0 when none). */
  lastSequence: number;
  /** The sequence the publisher will label the version with (e.g. S3 metadata); must equal meta.sequence. */
  sequence?: number;
  /** registry.json published alongside; its meta.sequence must be the same version's. */
  registryJson?: Uint8Array;
}

/**
 * Refuses a version that clients must not see: invalid, not what the publisher thinks it is,
 * empty, unsigned or badly signed, already expired, or not newer than the one published.
 * Returns the version's sequence.
 *
 * @throws UnpublishableRegistryError whose `reason` names the failed check.
 * @example
 * const sequence = assertPublishable({ document, bytes, signature, publicKeyPem, nowMs, lastSequence });
 */
function registryJsonSequence(bytes: Uint8Array): number | undefined {
  try {
    return parseRegistryJson(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)))
      .meta.sequence;
  } catch {
    return undefined;
  }
}

export function assertPublishable(candidate: PublishCandidate): number {
  const { bytes, signature, publicKeyPem, nowMs, lastSequence } = candidate;
  let published: FleetsJson;
  try {
    published = parseFleetsJsonBytes(bytes, 'fleets.json bytes');
  } catch (error) {
    if (!(error instanceof InvalidRegistryError)) throw error;
    throw new UnpublishableRegistryError('invalid', error.message);
  }
  const { sequence, expires } = published.meta;
  if (sequence === undefined || expires === undefined) {
    throw new UnpublishableRegistryError(
      'invalid',
      `meta.${sequence === undefined ? 'sequence' : 'expires'} is missing; build the document with buildFleetsJson so that clients can refuse rollbacks and stale copies`,
    );
  }
  if (candidate.sequence !== undefined && candidate.sequence !== sequence) {
    throw new UnpublishableRegistryError(
      'mismatch',
      `the version is labelled ${candidate.sequence} but meta.sequence is ${sequence}; label it with the sequence the document was built with`,
    );
  }
  if (candidate.registryJson !== undefined) {
    const registrySequence = registryJsonSequence(candidate.registryJson);
    if (registrySequence !== sequence) {
      throw new UnpublishableRegistryError(
        'mismatch',
        `registry.json ${registrySequence === undefined ? 'is not a valid registry.json' : `has meta.sequence ${registrySequence}`} but fleets.json has ${sequence}; build both from the same state and sequence`,
      );
    }
  }
  if (candidate.document !== undefined && !sameJsonValue(published, candidate.document)) {
    throw new UnpublishableRegistryError(
      'mismatch',
      'the bytes do not encode the given document; sign and publish the bytes buildFleetsJson returned with it',
    );
  }
  if (countAddresses(published) === 0) {
    throw new UnpublishableRegistryError(
      'empty',
      'no fleet lists any node; keep the previous version published and find out why no node is listable',
    );
  }
  if (signature === undefined || signature.length === 0 || publicKeyPem === undefined) {
    throw new UnpublishableRegistryError(
      'unsigned',
      `no ${signature === undefined || signature.length === 0 ? 'signature' : 'public key'} was given; sign the exact bytes with the registry signing key`,
    );
  }
  let verified: boolean;
  try {
    verified = verifyRegistrySignature(bytes, signature, publicKeyPem);
  } catch (error) {
    if (!(error instanceof SigningKeyConfigError)) throw error;
    throw new UnpublishableRegistryError('bad_signature', error.message);
  }
  if (!verified) {
    throw new UnpublishableRegistryError(
      'bad_signature',
      'the signature does not verify against the public key; sign these exact bytes, with the key whose public half is published',
    );
  }
  if (Date.parse(expires) <= nowMs) {
    throw new UnpublishableRegistryError(
      'expired',
      `meta.expires ${expires} is not after now (${new Date(nowMs).toISOString()}); rebuild with the current time`,
    );
  }
  if (sequence <= lastSequence) {
    throw new UnpublishableRegistryError(
      'stale_sequence',
      `meta.sequence ${sequence} is not above the published ${lastSequence}; rebuild with sequence ${lastSequence + 1} or more`,
    );
  }
  return sequence;
}

/**
 * assertPublishable for the artifacts a RegistryPublisher receives.
 * @example
 * assertArtifactsPublishable(artifacts, { nowMs: clock(), lastSequence: await this.lastSequence() });
 */
export function assertArtifactsPublishable(
  artifacts: RegistryArtifacts,
  context: { nowMs: number; lastSequence: number },
): number {
  return assertPublishable({
    bytes: artifacts.fleetsJson,
    signature: artifacts.fleetsJsonSignature,
    publicKeyPem: artifacts.publicKeyPem,
    sequence: artifacts.sequence,
    registryJson: artifacts.registryJson,
    nowMs: context.nowMs,
    lastSequence: context.lastSequence,
  });
}
