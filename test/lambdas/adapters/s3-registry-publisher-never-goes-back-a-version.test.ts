// S3RegistryPublisher against s3rver: the files, their headers, and refusing versions that are not newer.
import assert from 'node:assert/strict';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { UnpublishableRegistryError } from '../../../fleet/registry/errors.ts';
import { decodeSignatureFile, verifyRegistrySignature } from '../../../fleet/registry/signer.ts';
import { AwsCallError } from '../../../lambdas/adapters/aws-call-error.ts';
import { S3RegistryPublisher } from '../../../lambdas/adapters/S3RegistryPublisher.ts';
import { signedArtifacts, TEST_PUBLIC_KEY_PEM } from './registry-artifacts.ts';
import { type S3Emulator, startS3Emulator } from './s3rver-emulator.ts';

const BUCKET = 'storefleet-registry-test';
let emulator: S3Emulator;
let prefixCounter = 0;

function newPublisher(): S3RegistryPublisher {
  prefixCounter += 1;
  return new S3RegistryPublisher({
    bucketName: BUCKET,
    keyPrefix: `case-${prefixCounter}/`,
    client: emulator.client,
  });
}

async function readBack(key: string) {
  const output = await emulator.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return {
    bytes: new Uint8Array(
      await (output.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    ),
    cacheControl: output.CacheControl,
    contentType: output.ContentType,
    metadata: output.Metadata,
  };
}

beforeAll(async () => {
  emulator = await startS3Emulator([BUCKET]);
});

afterAll(async () => {
  await emulator.close();
});

describe('publishing a registry version to S3', () => {
  it('writes the four files with their bytes, content types and short cache times', async () => {
    // Prepare
    const publisher = newPublisher();
    const artifacts = signedArtifacts(1, 45);

    // Act
    await publisher.publish(artifacts);

    // Assess
    const fleets = await readBack(publisher.keyOf('fleets'));
    const signature = await readBack(publisher.keyOf('signature'));
    const publicKey = await readBack(publisher.keyOf('publicKey'));
    const registry = await readBack(publisher.keyOf('registry'));
    assert.deepEqual(fleets.bytes, artifacts.fleetsJson);
    assert.deepEqual(registry.bytes, artifacts.registryJson);
    assert.equal(new TextDecoder().decode(publicKey.bytes), TEST_PUBLIC_KEY_PEM);
    for (const file of [fleets, signature, publicKey, registry]) {
      assert.equal(file.cacheControl, 'public, max-age=45');
      assert.equal(file.metadata?.['sequence'], '1');
    }
    assert.equal(fleets.contentType, 'application/json');
    assert.equal(registry.contentType, 'application/json');
    assert.equal(signature.contentType, 'text/plain; charset=utf-8');
    assert.equal(publicKey.contentType, 'application/x-pem-file');
  });

  it('publishes a signature file and a signature header that verify the published bytes', async () => {
    // Prepare
    const publisher = newPublisher();
    const artifacts = signedArtifacts(1);

    // Act
    await publisher.publish(artifacts);

    // Assess
    const fleets = await readBack(publisher.keyOf('fleets'));
    const signatureFile = decodeSignatureFile((await readBack(publisher.keyOf('signature'))).bytes);
    const publicKeyPem = new TextDecoder().decode(
      (await readBack(publisher.keyOf('publicKey'))).bytes,
    );
    const signatureHeader = new Uint8Array(
      Buffer.from(fleets.metadata?.['signature'] ?? '', 'base64'),
    );
    assert.ok(signatureFile);
    assert.ok(verifyRegistrySignature(fleets.bytes, signatureFile, publicKeyPem));
    assert.ok(verifyRegistrySignature(fleets.bytes, signatureHeader, publicKeyPem));
  });

  it('reads back the last published sequence, and 0 before anything was published', async () => {
    // Prepare
    const publisher = newPublisher();
    const before = await publisher.lastSequence();

    // Act
    await publisher.publish(signedArtifacts(1));
    await publisher.publish(signedArtifacts(7));

    // Assess
    assert.equal(before, 0);
    assert.equal(await publisher.lastSequence(), 7);
    assert.equal((await readBack(publisher.keyOf('fleets'))).metadata?.['sequence'], '7');
  });
});

describe('refusing to go back a version', () => {
  it('refuses an equal or lower sequence and leaves the published files as they were', async () => {
    // Prepare
    const publisher = newPublisher();
    const current = signedArtifacts(5);
    await publisher.publish(current);

    // Act
    const same = publisher.publish(signedArtifacts(5));
    const lower = publisher.publish(signedArtifacts(4));

    // Assess
    for (const attempt of [same, lower]) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof UnpublishableRegistryError);
        assert.equal(error.reason, 'stale_sequence');
        assert.match(error.message, /rebuild with sequence 6 or more/);
        return true;
      });
    }
    assert.deepEqual((await readBack(publisher.keyOf('fleets'))).bytes, current.fleetsJson);
    assert.equal(await publisher.lastSequence(), 5);
  });

  it('refuses a version from a publisher that is behind another one on the same bucket', async () => {
    // Prepare: two publisher instances (two controller runs) sharing the same files.
    const ahead = newPublisher();
    const behind = new S3RegistryPublisher({
      bucketName: BUCKET,
      keyPrefix: ahead.keyOf('fleets').replace('fleets.json', ''),
      client: emulator.client,
    });
    const lastSeenByBehind = await behind.lastSequence();
    await ahead.publish(signedArtifacts(lastSeenByBehind + 2));

    // Act
    const late = behind.publish(signedArtifacts(lastSeenByBehind + 1));

    // Assess
    await assert.rejects(late, UnpublishableRegistryError);
    assert.equal(await behind.lastSequence(), lastSeenByBehind + 2);
  });

  it('refuses unsigned artifacts before writing anything', async () => {
    // Prepare
    const publisher = newPublisher();

    // Act
    const unsigned = publisher.publish({
      ...signedArtifacts(1),
      fleetsJsonSignature: new Uint8Array(),
    });

    // Assess
    await assert.rejects(unsigned, /unsigned/);
    assert.equal(await publisher.lastSequence(), 0);
  });
});

describe('reporting S3 failures', () => {
  it('names the bucket and says what to check when it does not exist', async () => {
    // Prepare
    const publisher = new S3RegistryPublisher({
      bucketName: 'no-such-bucket',
      client: emulator.client,
    });

    // Act
    const read = publisher.lastSequence();

    // Assess
    await assert.rejects(read, (error: unknown) => {
      assert.ok(error instanceof AwsCallError);
      assert.match(error.message, /bucket "no-such-bucket"/);
      assert.match(error.message, /exists/);
      return true;
    });
  });
});
