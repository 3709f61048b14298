// Detached signatures of published registry bytes: ECDSA P-256 over SHA-256, DER-encoded.
//
// DER is what AWS KMS returns for ECDSA_SHA_256 and what `openssl dgst -verify` reads, so a KMS key
// and a local key file produce signatures that clients check the same way.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { SigningKeyConfigError } from './errors.ts';

export interface RegistrySigner {
  /** Identifies the key in logs and metrics, e.g. `sha256:` + hex fingerprint of the public key. */
  readonly keyId: string;
  /** ECDSA P-256 over SHA-256 of `bytes`, DER-encoded. */
  sign(bytes: Uint8Array): Promise<Uint8Array>;
  /** SubjectPublicKeyInfo PEM of the verifying key. */
  publicKeyPem(): Promise<string>;
}

/** OpenSSL's name for NIST P-256 (secp256r1). */
const P256 = 'prime256v1';

/** Longest DER ECDSA P-256 signature: SEQUENCE of two INTEGERs of up to 33 bytes each. */
const MAX_P256_DER_SIGNATURE_BYTES = 72;

/**
 * Parses a SubjectPublicKeyInfo PEM and checks that it is an EC P-256 key.
 * @throws SigningKeyConfigError naming what the key is instead.
 */
export function parseRegistryPublicKey(publicKeyPem: string, source = 'public key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicKeyPem, format: 'pem' });
  } catch (error) {
    throw new SigningKeyConfigError(
      source,
      `not a PEM public key (${(error as Error).message}); expected the "-----BEGIN PUBLIC KEY-----" file published beside fleets.json`,
    );
  }
  assertP256(key, source);
  return key;
}

/** Why `key` cannot sign or verify registries, or undefined when it is an EC P-256 key. */
export function describeNonP256Key(key: KeyObject): string | undefined {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve === P256) return undefined;
  const actual = key.asymmetricKeyType === 'ec' ? `EC ${curve}` : key.asymmetricKeyType;
  return `is a ${actual} key; expected an ECDSA P-256 (prime256v1) key`;
}

/** @throws SigningKeyConfigError unless `key` is on P-256. */
export function assertP256(key: KeyObject, source: string): void {
  const problem = describeNonP256Key(key);
  if (problem) {
    throw new SigningKeyConfigError(
      source,
      `${problem}, e.g. from: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`,
    );
  }
}

/**
 * The PEM of a DER SubjectPublicKeyInfo, as AWS KMS GetPublicKey returns it.
 * @throws SigningKeyConfigError when the key is not P-256.
 * @example
 * const pem = publicKeyPemFromDer((await kms.send(new GetPublicKeyCommand({ KeyId }))).PublicKey!);
 */
export function publicKeyPemFromDer(spkiDer: Uint8Array, source = 'public key'): string {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  } catch (error) {
    throw new SigningKeyConfigError(
      source,
      `not a DER SubjectPublicKeyInfo (${(error as Error).message}); expected an ECC_NIST_P256 key's public half`,
    );
  }
  assertP256(key, source);
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

/** `sha256:` + hex SHA-256 of the key's DER SubjectPublicKeyInfo: the same for a KMS key and its PEM. */
export function publicKeyFingerprint(publicKeyPem: string): string {
  const der = parseRegistryPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

function readDerLength(
  bytes: Uint8Array,
  at: number,
): { length: number; next: number } | undefined {
  const first = bytes[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, next: at + 1 };
  if (first !== 0x81) return undefined;
  const length = bytes[at + 1];
  return length === undefined || length < 0x80 ? undefined : { length, next: at + 2 };
}

/** True for `SEQUENCE { INTEGER r, INTEGER s }` with nothing after: the shape of a DER ECDSA signature. */
export function isDerEcdsaSignature(bytes: Uint8Array): boolean {
  if (bytes.length < 8 || bytes.length > MAX_P256_DER_SIGNATURE_BYTES || bytes[0] !== 0x30)
    return false;
  const sequence = readDerLength(bytes, 1);
  if (!sequence || sequence.next + sequence.length !== bytes.length) return false;
  let at = sequence.next;
  for (let i = 0; i < 2; i++) {
    if (bytes[at] !== 0x02) return false;
    const integer = readDerLength(bytes, at + 1);
    if (!integer || integer.length === 0) return false;
    at = integer.next + integer.length;
  }
  return at === bytes.length;
}

/**
 * Checks a detached signature over the exact published bytes.
 * Returns false for a signature that does not match (or is not a DER ECDSA signature at all).
 * @throws SigningKeyConfigError when `publicKeyPem` is not a P-256 public key.
 * @example
 * if (!verifyRegistrySignature(fleetsJsonBytes, signatureDer, publicKeyPem)) throw new Error('forged');
 */
export function verifyRegistrySignature(
  bytes: Uint8Array,
  signatureDer: Uint8Array,
  publicKeyPem: string,
): boolean {
  const key = parseRegistryPublicKey(publicKeyPem);
  if (!isDerEcdsaSignature(signatureDer)) return false;
  try {
    return verify('sha256', bytes, { key, dsaEncoding: 'der' }, signatureDer);
  } catch {
    // OpenSSL rejects some out-of-range integers by raising rather than returning false.
    return false;
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The published `.sig` file: base64 of the DER signature, one line. */
export function encodeSignatureFile(signatureDer: Uint8Array): string {
  return `${Buffer.from(signatureDer).toString('base64')}\n`;
}

/**
 * Reads a `.sig` file: base64 text (surrounding whitespace ignored) or, leniently, raw DER bytes.
 * Returns undefined when it is neither.
 */
export function decodeSignatureFile(content: Uint8Array): Uint8Array | undefined {
  if (isDerEcdsaSignature(content)) return content;
  const text = new TextDecoder().decode(content).replace(/\s+/g, '');
  if (!BASE64.test(text) || text.length % 4 !== 0) return undefined;
  const der = new Uint8Array(Buffer.from(text, 'base64'));
  return isDerEcdsaSignature(der) ? der : undefined;
}
