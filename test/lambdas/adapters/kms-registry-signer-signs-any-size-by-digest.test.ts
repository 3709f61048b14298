// KmsRegistrySigner: the KMS requests it sends, and that what KMS returns becomes a verifiable signature and PEM.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import {
  GetPublicKeyCommand,
  KMSClient,
  KMSServiceException,
  SignCommand,
  type SignCommandInput,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, it } from 'vitest';
import { SigningKeyConfigError } from '../../../fleet/registry/errors.ts';
import { verifyRegistrySignature } from '../../../fleet/registry/signer.ts';
import { AwsCallError } from '../../../lambdas/adapters/aws-call-error.ts';
import {
  KMS_RAW_MESSAGE_MAX_BYTES,
  KmsRegistrySigner,
} from '../../../lambdas/adapters/KmsRegistrySigner.ts';

const KEY_ID = 'alias/storefleet-registry';
const client = new KMSClient({ region: 'eu-west-1' });
const kms = mockClient(client);

// Stands in for the key inside KMS.
const localKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const localPublicKeyDer = new Uint8Array(
  localKey.publicKey.export({ type: 'spki', format: 'der' }),
);
const localPublicKeyPem = localKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** A registry document above KMS's RAW limit, as a real fleets.json of a large fleet is. */
const largeRegistryBytes = new TextEncoder().encode(
  JSON.stringify({
    fleets: Object.fromEntries(
      Array.from({ length: 80 }, (_, i) => [
        `store-${i}.do-ams3.status.prod`,
        `/dns4/store-${i}.example/tcp/30303/p2p/16Uiu2HAm${'x'.repeat(40)}`,
      ]),
    ),
  }),
);

function p256KeyResponse() {
  return {
    KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd',
    KeySpec: 'ECC_NIST_P256' as const,
    KeyUsage: 'SIGN_VERIFY' as const,
    SigningAlgorithms: ['ECDSA_SHA_256' as const],
    PublicKey: localPublicKeyDer,
  };
}

beforeEach(() => {
  kms.reset();
});

describe('signing registry bytes with KMS', () => {
  it('sends a DIGEST sign request for our registry bytes (checks our calls, not AWS)', async () => {
    // Prepare
    assert.ok(largeRegistryBytes.byteLength > KMS_RAW_MESSAGE_MAX_BYTES);
    kms
      .on(SignCommand)
      .resolves({ Signature: new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]) });
    const signer = new KmsRegistrySigner({ keyId: KEY_ID, client });

    // Act
    await signer.sign(largeRegistryBytes);

    // Assess
    const calls = kms.commandCalls(SignCommand);
    assert.equal(calls.length, 1);
    const input = calls[0]?.args[0].input as SignCommandInput;
    assert.equal(input.KeyId, KEY_ID);
    assert.equal(input.MessageType, 'DIGEST');
    assert.equal(input.SigningAlgorithm, 'ECDSA_SHA_256');
    assert.deepEqual(
      Buffer.from(input.Message as Uint8Array),
      createHash('sha256').update(largeRegistryBytes).digest(),
    );
  });

  it('returns a signature that verifies the bytes with the PEM it serves (checks our calls and conversions, not AWS)', async () => {
    // Prepare: the fake KMS signs only if it was handed the SHA-256 of exactly these bytes.
    kms.on(SignCommand).callsFake((input: SignCommandInput) => {
      const expected = createHash('sha256').update(largeRegistryBytes).digest();
      if (!Buffer.from(input.Message as Uint8Array).equals(expected)) {
        throw new Error('the fake KMS was sent a digest of other bytes');
      }
      return { Signature: new Uint8Array(sign('sha256', largeRegistryBytes, localKey.privateKey)) };
    });
    kms.on(GetPublicKeyCommand).resolves(p256KeyResponse());
    const signer = new KmsRegistrySigner({ keyId: KEY_ID, client });

    // Act
    const signature = await signer.sign(largeRegistryBytes);
    const pem = await signer.publicKeyPem();

    // Assess
    assert.equal(pem, localPublicKeyPem);
    assert.ok(verifyRegistrySignature(largeRegistryBytes, signature, pem));
    const tampered = largeRegistryBytes.slice();
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    assert.equal(verifyRegistrySignature(tampered, signature, pem), false);
  });

  it('names the key and what to check when KMS refuses (checks our calls, not AWS)', async () => {
    // Prepare
    kms.on(SignCommand).rejects(
      new KMSServiceException({
        name: 'DisabledException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'key is disabled',
      }),
    );
    const signer = new KmsRegistrySigner({ keyId: KEY_ID, client });

    // Act
    const signing = signer.sign(new Uint8Array([1, 2, 3]));

    // Assess
    await assert.rejects(signing, (error: unknown) => {
      assert.ok(error instanceof AwsCallError);
      assert.match(error.message, /kms:Sign on KMS key "alias\/storefleet-registry" failed/);
      assert.match(error.message, /enable it/);
      return true;
    });
  });
});

describe('serving the public key', () => {
  it('asks KMS for the public key once and caches the PEM (checks our calls, not AWS)', async () => {
    // Prepare
    kms.on(GetPublicKeyCommand).resolves(p256KeyResponse());
    const signer = new KmsRegistrySigner({ keyId: KEY_ID, client });

    // Act
    const [first, second] = await Promise.all([signer.publicKeyPem(), signer.publicKeyPem()]);
    const third = await signer.publicKeyPem();

    // Assess
    assert.equal(kms.commandCalls(GetPublicKeyCommand).length, 1);
    assert.equal(kms.commandCalls(GetPublicKeyCommand)[0]?.args[0].input.KeyId, KEY_ID);
    assert.match(first, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal(second, first);
    assert.equal(third, first);
  });

  it('asks again after a failed fetch instead of caching the failure (checks our calls, not AWS)', async () => {
    // Prepare
    kms
      .on(GetPublicKeyCommand)
      .rejectsOnce(new Error('socket hang up'))
      .resolves(p256KeyResponse());
    const signer = new KmsRegistrySigner({ keyId: KEY_ID, client });

    // Act
    const failed = signer.publicKeyPem();
    await assert.rejects(failed, AwsCallError);
    const retried = await signer.publicKeyPem();

    // Assess
    assert.equal(retried, localPublicKeyPem);
    assert.equal(kms.commandCalls(GetPublicKeyCommand).length, 2);
  });

  it('refuses a key that is not an ECC_NIST_P256 signing key (checks our calls, not AWS)', async () => {
    // Prepare
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    kms.on(GetPublicKeyCommand).resolves({
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['RSASSA_PSS_SHA_256'],
      PublicKey: new Uint8Array(rsa.publicKey.export({ type: 'spki', format: 'der' })),
    });
    const signer = new KmsRegistrySigner({ keyId: KEY_ID, client });

    // Act
    const fetching = signer.publicKeyPem();

    // Assess
    await assert.rejects(fetching, (error: unknown) => {
      assert.ok(error instanceof SigningKeyConfigError);
      assert.match(
        error.message,
        /RSA_2048 SIGN_VERIFY key; expected an ECC_NIST_P256 SIGN_VERIFY key/,
      );
      return true;
    });
  });
});
