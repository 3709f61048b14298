// Against s3rver behind S3's conditional writes: each version lands under its own immutable keys beside its signature, and a second publisher of the same sequence is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { UnpublishableRegistryError } from '../../fleet/registry/errors.ts';
import { decodeSignatureFile, verifyRegistrySignature } from '../../fleet/registry/index.ts';
import {
  IMMUTABLE_CACHE_CONTROL,
  S3RegistryPublisher,
  versionKeys,
} from '../../lambdas/adapters/S3RegistryPublisher.ts';
import { AwsClients } from '../../lambdas/shared/aws-clients.ts';
import { signedArtifacts, TEST_PUBLIC_KEY_PEM } from '../lambdas/adapters/registry-artifacts.ts';
import { CONTROL_REGION, fastAwsFleetConfig } from './aws-fleet-harness.ts';
import { EMULATED_CREDENTIALS, type EmulatedAws, startEmulatedAws } from './emulated-aws.ts';

const BASE_PORT = 24600;
let aws: EmulatedAws;
let clients: AwsClients;
let s3: S3Client;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'storefleet-s3-versions-'));
  process.env.AWS_ACCESS_KEY_ID = EMULATED_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATED_CREDENTIALS.secretAccessKey;
  aws = await startEmulatedAws({
    config: fastAwsFleetConfig(),
    controlRegion: CONTROL_REGION,
    basePort: BASE_PORT,
    dataDir,
    startNodes: false,
  });
  clients = new AwsClients(aws.endpoints);
  s3 = clients.s3(CONTROL_REGION);
}, 30_000);

afterAll(async () => {
  clients?.destroy();
  await aws?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function parseSequence(bytes: Uint8Array): number {
  return JSON.parse(Buffer.from(bytes).toString('utf8')).meta.sequence;
}

async function read(Key: string) {
  const object = await s3.send(new GetObjectCommand({ Bucket: aws.bucketName, Key }));
  return {
    bytes: (await object.Body?.transformToByteArray()) as Uint8Array,
    cacheControl: object.CacheControl,
    metadata: object.Metadata ?? {},
  };
}

describe('publishing versions one after the other', () => {
  it('keeps every version under fleets/{sequence}.json with a signature that verifies it', async () => {
    // Prepare
    const publisher = new S3RegistryPublisher({ bucketName: aws.bucketName, client: s3 });

    // Act
    for (const sequence of [1, 2, 3]) await publisher.publish(signedArtifacts(sequence));

    // Assess
    for (const sequence of [1, 2, 3]) {
      const keys = versionKeys(sequence);
      const fleets = await read(keys.fleets);
      const signature = await read(keys.signature);
      assert.equal(fleets.cacheControl, IMMUTABLE_CACHE_CONTROL);
      assert.equal(parseSequence(fleets.bytes), sequence);
      assert.ok(
        verifyRegistrySignature(
          fleets.bytes,
          decodeSignatureFile(signature.bytes) as Uint8Array,
          TEST_PUBLIC_KEY_PEM,
        ),
      );
    }
    // A client holding the well-known fleets.json finds its own signature by the sequence inside it.
    const current = await read('fleets.json');
    const sequence = parseSequence(current.bytes);
    assert.equal(sequence, 3);
    const own = await read(versionKeys(sequence).signature);
    assert.ok(
      verifyRegistrySignature(
        current.bytes,
        decodeSignatureFile(own.bytes) as Uint8Array,
        TEST_PUBLIC_KEY_PEM,
      ),
    );
    assert.ok(
      verifyRegistrySignature(
        current.bytes,
        new Uint8Array(Buffer.from(current.metadata['signature'] ?? '', 'base64')),
        TEST_PUBLIC_KEY_PEM,
      ),
      'the signature travels with fleets.json in its metadata',
    );
    assert.equal(await publisher.lastSequence(), 3);
  });
});

describe('two publishers building the same sequence', () => {
  it('lets the first claim it and refuses the second before it touches fleets.json', async () => {
    // Prepare: both read lastSequence 3 and build 4.
    const first = new S3RegistryPublisher({ bucketName: aws.bucketName, client: s3 });
    const second = new S3RegistryPublisher({
      bucketName: aws.bucketName,
      client: new AwsClients(aws.endpoints).s3(CONTROL_REGION),
    });
    const winner = signedArtifacts(4);
    const loser = { ...signedArtifacts(4), registryJson: new TextEncoder().encode('{"late":1}') };

    // Act
    await first.publish(winner);
    const late = second.publish(loser);

    // Assess
    await assert.rejects(late, (error: unknown) => {
      assert.ok(error instanceof UnpublishableRegistryError);
      assert.equal(error.reason, 'stale_sequence');
      return true;
    });
    const registry = await read('registry.json');
    assert.deepEqual(registry.bytes, winner.registryJson);
  });

  it('refuses a sequence another publisher has claimed but not yet pointed fleets.json at', async () => {
    // Prepare: the other publisher wrote version 5's own objects and is still writing the rest.
    await s3.send(
      new PutObjectCommand({
        Bucket: aws.bucketName,
        Key: versionKeys(5).signature,
        Body: 'claimed',
        IfNoneMatch: '*',
      }),
    );
    const publisher = new S3RegistryPublisher({ bucketName: aws.bucketName, client: s3 });

    // Act
    const publish = publisher.publish(signedArtifacts(5));

    // Assess
    await assert.rejects(publish, (error: unknown) => {
      assert.ok(error instanceof UnpublishableRegistryError);
      assert.match(error.message, /another publisher claimed sequence 5/);
      return true;
    });
    assert.equal(parseSequence((await read('fleets.json')).bytes), 4);
  });
});
