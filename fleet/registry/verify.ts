// What a client does with a downloaded fleets.json: validate the format, the signature, the expiry and the sequence.
import {
  ExpiredRegistryError,
  RolledBackRegistryError,
  UnverifiedRegistryError,
} from './errors.ts';
import { type FleetsJson, parseFleetsJsonBytes } from './fleets-json-schema.ts';
import { publicKeyFingerprint, verifyRegistrySignature } from './signer.ts';

export interface FleetsJsonSummary {
  hostname: string;
  timestamp: string;
  sequence: number | undefined;
  expires: string | undefined;
  fleets: Array<{ fleet: string; kinds: Array<{ kind: string; nodes: number }> }>;
  addresses: number;
}

export function summarizeFleetsJson(document: FleetsJson): FleetsJsonSummary {
  const fleets = Object.entries(document.fleets).map(([fleet, kinds]) => ({
    fleet,
    kinds: Object.entries(kinds).map(([kind, nodes]) => ({
      kind,
      nodes: Object.keys(nodes).length,
    })),
  }));
  return {
    hostname: document.meta.hostname,
    timestamp: document.meta.timestamp,
    sequence: document.meta.sequence,
    expires: document.meta.expires,
    fleets,
    addresses: fleets.reduce(
      (sum, fleet) => sum + fleet.kinds.reduce((inner, kind) => inner + kind.nodes, 0),
      0,
    ),
  };
}

export interface VerifyFleetsJsonInput {
  bytes: Uint8Array;
  /** Names the file in messages. */
  source?: string;
  /** Detached signature to check; `der` is undefined when the signature file could not be decoded. */
  signature?: { der: Uint8Array | undefined; publicKeyPem: string; source?: string };
  nowMs: number;
  /** The highest sequence already seen: a lower one is a rollback. */
  minSequence?: number;
}

export interface VerifiedFleetsJson {
  document: FleetsJson;
  summary: FleetsJsonSummary;
  /** Fingerprint of the key that signed it, when a signature was checked. */
  signedBy: string | undefined;
}

/**
 * Applies a client's rules to a fetched fleets.json: it must be in Status's format, carry a valid
 * signature when one is given, not be expired (when it has `meta.expires`), and not roll back.
 * @throws InvalidRegistryError, UnverifiedRegistryError, ExpiredRegistryError, RolledBackRegistryError
 */
export function verifyFleetsJson(input: VerifyFleetsJsonInput): VerifiedFleetsJson {
  const source = input.source ?? 'fleets.json';
  const document = parseFleetsJsonBytes(input.bytes, source);
  let signedBy: string | undefined;
  if (input.signature) {
    const { der, publicKeyPem } = input.signature;
    const signatureSource = input.signature.source ?? 'signature';
    if (der === undefined) {
      throw new UnverifiedRegistryError(
        `${signatureSource} is not a base64 (or raw) DER ECDSA signature`,
      );
    }
    // Throws SigningKeyConfigError for a key that is not P-256: a setup mistake, not a forgery.
    const fingerprint = publicKeyFingerprint(publicKeyPem);
    if (!verifyRegistrySignature(input.bytes, der, publicKeyPem)) {
      throw new UnverifiedRegistryError(
        `${signatureSource} does not verify ${source} against key ${fingerprint}`,
      );
    }
    signedBy = fingerprint;
  }
  const { expires, sequence } = document.meta;
  if (expires !== undefined && Date.parse(expires) <= input.nowMs) {
    throw new ExpiredRegistryError(expires, input.nowMs);
  }
  if (input.minSequence !== undefined && (sequence === undefined || sequence < input.minSequence)) {
    throw new RolledBackRegistryError(sequence, input.minSequence);
  }
  return { document, summary: summarizeFleetsJson(document), signedBy };
}
