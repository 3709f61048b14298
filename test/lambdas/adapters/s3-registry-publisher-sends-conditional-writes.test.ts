// S3RegistryPublisher's requests: conditional PUT headers and write order, checked with a mocked S3 client.
import assert from 'node:assert/strict';
import {
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, it } from 'vitest';
import { UnpublishableRegistryError } from '../../../fleet/registry/errors.ts';
import { S3RegistryPublisher } from '../../../lambdas/adapters/S3RegistryPublisher.ts';
import { signedArtifacts } from './registry-artifacts.ts';

const BUCKET = 'registry-bucket';
const client = new S3Client({ region: 'eu-west-1' });
const s3 = mockClient(client);

function s3Error(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode },
    message: name,
  });
}

function putKeys(): (string | undefined)[] {
  return s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key);
}

beforeEach(() => {
  s3.reset();
});

describe('conditional writes of the registry files', () => {
  it('sends If-None-Match * for files that do not exist yet (checks our calls, not AWS)', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    s3.on(HeadBucketCommand).resolves({});
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
    const publisher = new S3RegistryPublisher({
      bucketName: BUCKET,
      keyPrefix: 'status.prod/',
      client,
    });

    // Act
    await publisher.publish(signedArtifacts(1));

    // Assess
    const puts = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    assert.equal(puts.length, 6);
    for (const put of puts) {
      assert.equal(put.Bucket, BUCKET);
      assert.equal(put.IfNoneMatch, '*');
      assert.equal(put.IfMatch, undefined);
    }
  });

  it('sends If-Match with the ETag it read for files that exist (checks our calls, not AWS)', async () => {
    // Prepare
    s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => ({
      ETag: `"etag-of-${input.Key}"`,
      Metadata: { sequence: '3' },
    }));
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
    const publisher = new S3RegistryPublisher({ bucketName: BUCKET, client });

    // Act
    await publisher.publish(signedArtifacts(4));

    // Assess
    const puts = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    assert.deepEqual(
      puts.map((put) => [put.Key, put.IfMatch, put.IfNoneMatch]),
      [
        ['fleets/4.json.sig', undefined, '*'],
        ['fleets/4.json', undefined, '*'],
        ['fleets.pub.pem', '"etag-of-fleets.pub.pem"', undefined],
        ['fleets.json.sig', '"etag-of-fleets.json.sig"', undefined],
        ['fleets.json', '"etag-of-fleets.json"', undefined],
        ['registry.json', '"etag-of-registry.json"', undefined],
      ],
    );
    assert.equal(s3.commandCalls(HeadBucketCommand).length, 0);
  });

  it('writes the version’s own objects first, then the key and the signature before fleets.json, and registry.json last (checks our calls, not AWS)', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    s3.on(HeadBucketCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const publisher = new S3RegistryPublisher({ bucketName: BUCKET, client });
    const artifacts = signedArtifacts(2, 20);

    // Act
    await publisher.publish(artifacts);

    // Assess
    assert.deepEqual(putKeys(), [
      'fleets/2.json.sig',
      'fleets/2.json',
      'fleets.pub.pem',
      'fleets.json.sig',
      'fleets.json',
      'registry.json',
    ]);
    const versionPut = s3.commandCalls(PutObjectCommand)[1]?.args[0].input;
    assert.equal(versionPut?.CacheControl, 'public, max-age=31536000, immutable');
    assert.deepEqual(versionPut?.Metadata, {
      sequence: '2',
      signature: Buffer.from(artifacts.fleetsJsonSignature).toString('base64'),
    });
    const fleetsPut = s3.commandCalls(PutObjectCommand)[4]?.args[0].input;
    assert.equal(fleetsPut?.CacheControl, 'public, max-age=20');
    assert.deepEqual(fleetsPut?.Metadata, {
      sequence: '2',
      signature: Buffer.from(artifacts.fleetsJsonSignature).toString('base64'),
    });
  });
});

describe('losing a race to another publisher', () => {
  for (const [name, status] of [
    ['PreconditionFailed', 412],
    ['ConditionalRequestConflict', 409],
  ] as const) {
    it(`stops at the write S3 answers ${status} ${name} and reports a stale sequence (checks our calls, not AWS)`, async () => {
      // Prepare
      s3.on(HeadObjectCommand).resolves({ ETag: '"seen"', Metadata: { sequence: '8' } });
      s3.on(PutObjectCommand).resolves({});
      s3.on(PutObjectCommand, { Key: 'fleets.json' }).rejects(s3Error(name, status));
      const publisher = new S3RegistryPublisher({ bucketName: BUCKET, client });

      // Act
      const publish = publisher.publish(signedArtifacts(9));

      // Assess
      await assert.rejects(publish, (error: unknown) => {
        assert.ok(error instanceof UnpublishableRegistryError);
        assert.equal(error.reason, 'stale_sequence');
        assert.match(error.message, /another publisher wrote it/);
        return true;
      });
      assert.deepEqual(putKeys(), [
        'fleets/9.json.sig',
        'fleets/9.json',
        'fleets.pub.pem',
        'fleets.json.sig',
        'fleets.json',
      ]);
    });
  }

  it('reports other PUT failures with the object and the permission to check (checks our calls, not AWS)', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    s3.on(HeadBucketCommand).resolves({});
    s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    const publisher = new S3RegistryPublisher({ bucketName: BUCKET, client });

    // Act
    const publish = publisher.publish(signedArtifacts(1));

    // Assess
    await assert.rejects(
      publish,
      /s3:PutObject on s3:\/\/registry-bucket\/fleets\/1\.json\.sig .*allows s3:PutObject/,
    );
  });
});
