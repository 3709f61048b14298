// RegistrySigner backed by an AWS KMS ECC_NIST_P256 key: the private key never leaves KMS.
import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { SigningKeyConfigError } from '../../fleet/registry/errors.ts';
import { assertP256, type RegistrySigner } from '../../fleet/registry/signer.ts';
import { callAws } from './aws-call-error.ts';

/** KMS signs at most 4096 bytes as a RAW message; fleets.json is larger, so we always send its digest. */
export const KMS_RAW_MESSAGE_MAX_BYTES = 4096;
const SIGNING_ALGORITHM = 'ECDSA_SHA_256';
const REQUIRED_KEY_SPEC = 'ECC_NIST_P256';
const REQUIRED_KEY_USAGE = 'SIGN_VERIFY';

const defaultKmsClient = new KMSClient({});

export interface KmsRegistrySignerProps {
  /** Key id, key ARN, alias name (`alias/storefleet-registry`) or alias ARN. */
  keyId: string;
  /**
   * Swappable for tests.
   * @default a module-scope KMSClient using the Lambda's region and role
   */
  client?: KMSClient;
}

/**
 * Signs registry bytes with KMS (ECDSA P-256, SHA-256, DER) and serves the key's public half as PEM.
 * @example
 * const signer = new KmsRegistrySigner({ keyId: 'alias/storefleet-registry' });
 * const signature = await signer.sign(fleetsJsonBytes);
 * const publicKeyPem = await signer.publicKeyPem(); // fetched once, then cached
 */
export class KmsRegistrySigner implements RegistrySigner {
  /** The KMS key id or alias as configured (the public key fingerprint needs a KMS call). */
  readonly keyId: string;
  readonly #client: KMSClient;
  #publicKeyPem: Promise<string> | undefined;

  constructor(props: KmsRegistrySignerProps) {
    this.keyId = props.keyId;
    this.#client = props.client ?? defaultKmsClient;
  }

  async sign(bytes: Uint8Array): Promise<Uint8Array> {
    // DIGEST works for any size; RAW would fail above KMS_RAW_MESSAGE_MAX_BYTES. KMS then signs the
    // digest exactly as ECDSA_SHA_256 would sign the message, so verifiers hash the bytes as usual.
    const digest = createHash('sha256').update(bytes).digest();
    const output = await callAws(this.#target('kms:Sign'), () =>
      this.#client.send(
        new SignCommand({
          KeyId: this.keyId,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: SIGNING_ALGORITHM,
        }),
      ),
    );
    if (!output.Signature || output.Signature.byteLength === 0) {
      throw new Error(
        `kms:Sign with KMS key "${this.keyId}" returned no signature; retry, and check the key's state if it repeats`,
      );
    }
    return output.Signature;
  }

  publicKeyPem(): Promise<string> {
    if (!this.#publicKeyPem) {
      this.#publicKeyPem = this.#fetchPublicKeyPem();
      // A failed fetch is not cached: the next call asks KMS again.
      this.#publicKeyPem.catch(() => {
        this.#publicKeyPem = undefined;
      });
    }
    return this.#publicKeyPem;
  }

  async #fetchPublicKeyPem(): Promise<string> {
    const output = await callAws(this.#target('kms:GetPublicKey'), () =>
      this.#client.send(new GetPublicKeyCommand({ KeyId: this.keyId })),
    );
    const source = `KMS key "${this.keyId}"`;
    if (
      output.KeySpec !== REQUIRED_KEY_SPEC ||
      output.KeyUsage !== REQUIRED_KEY_USAGE ||
      !output.SigningAlgorithms?.includes(SIGNING_ALGORITHM)
    ) {
      throw new SigningKeyConfigError(
        source,
        `is a ${output.KeySpec ?? 'unknown'} ${output.KeyUsage ?? 'unknown-usage'} key; expected an ${REQUIRED_KEY_SPEC} ${REQUIRED_KEY_USAGE} key that allows ${SIGNING_ALGORITHM}`,
      );
    }
    if (!output.PublicKey) {
      throw new SigningKeyConfigError(source, 'GetPublicKey returned no public key');
    }
    // KMS returns the DER SubjectPublicKeyInfo; PEM is the same bytes in base64 between armour lines.
    const key = createPublicKey({
      key: Buffer.from(output.PublicKey),
      format: 'der',
      type: 'spki',
    });
    assertP256(key, source);
    return key.export({ type: 'spki', format: 'pem' }).toString();
  }

  #target(action: string) {
    return { action, resource: `KMS key "${this.keyId}"` };
  }
}
