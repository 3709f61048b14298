// A KMS emulator (awsJson1_1) holding real ECC_NIST_P256 keys: Sign (DIGEST or RAW, ECDSA_SHA_256, DER) and GetPublicKey (DER SPKI).
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { AwsFault, type RunningService, startJsonService } from './json-service.ts';

const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

interface EmulatedKey {
  keyId: string;
  region: string;
  secretKey: Uint8Array;
  publicKey: KeyObject;
}

export interface KmsEmulator extends RunningService {
  /** Creates a P-256 signing key in `region` under `alias` (e.g. `alias/storefleet-registry`); returns its key id. */
  createKey(region: string, alias: string): string;
  /** The key's public half as PEM, to check published signatures against. */
  publicKeyPem(region: string, alias: string): string;
}

export async function startKmsEmulator(options: {
  port: number;
  regions: readonly string[];
}): Promise<KmsEmulator> {
  const keys = new Map<string, EmulatedKey>();
  const aliases = new Map<string, string>();
  const find = (region: string, keyId: unknown): EmulatedKey => {
    const id = typeof keyId === 'string' ? (aliases.get(`${region}|${keyId}`) ?? keyId) : '';
    const key = keys.get(`${region}|${id}`);
    if (!key) {
      throw new AwsFault('NotFoundException', `Key '${String(keyId)}' does not exist in ${region}`);
    }
    return key;
  };
  const arnOf = (key: EmulatedKey) => `arn:aws:kms:${key.region}:000000000000:key/${key.keyId}`;
  const service = await startJsonService({
    targetPrefix: 'TrentService',
    jsonVersion: '1.1',
    port: options.port,
    regions: options.regions,
    operations: {
      Sign: (input, { region }) => {
        const key = find(region, input['KeyId']);
        if (input['SigningAlgorithm'] !== SIGNING_ALGORITHM) {
          throw new AwsFault(
            'InvalidKeyUsageException',
            `${String(input['SigningAlgorithm'])} is not valid for this key`,
          );
        }
        const message = Buffer.from(String(input['Message'] ?? ''), 'base64');
        const digest =
          input['MessageType'] === 'DIGEST'
            ? message
            : createHash('sha256').update(message).digest();
        if (digest.byteLength !== 32) {
          throw new AwsFault(
            'ValidationException',
            'Digest is invalid length for algorithm ECDSA_SHA_256.',
          );
        }
        const signature = p256.sign(digest, key.secretKey, { prehash: false, format: 'der' });
        return {
          KeyId: arnOf(key),
          Signature: Buffer.from(signature).toString('base64'),
          SigningAlgorithm: SIGNING_ALGORITHM,
        };
      },
      GetPublicKey: (input, { region }) => {
        const key = find(region, input['KeyId']);
        return {
          KeyId: arnOf(key),
          KeySpec: 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: [SIGNING_ALGORITHM],
          PublicKey: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        };
      },
    },
  });
  return {
    ...service,
    createKey: (region, alias) => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const d = privateKey.export({ format: 'jwk' }).d as string;
      const keyId = `${keys.size + 1}`.padStart(8, '0').concat('-0000-4000-8000-000000000000');
      keys.set(`${region}|${keyId}`, {
        keyId,
        region,
        secretKey: new Uint8Array(Buffer.from(d, 'base64url')),
        publicKey,
      });
      aliases.set(`${region}|${alias}`, keyId);
      return keyId;
    },
    publicKeyPem: (region, alias) =>
      find(region, alias).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
