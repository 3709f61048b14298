// RegistryPublisher on S3: each version written once under its own keys, then the well-known files pointed at it, so no file ever goes back to an older version.
//
// How a version is written, and why in this order:
// 1. HEAD the four well-known objects. Each carries its version in `x-amz-meta-sequence`; the
//    highest one is the published sequence, and a version not above it is refused.
// 2. PUT the version's own objects, `fleets/{sequence}.json.sig` then `fleets/{sequence}.json`, with
//    `If-None-Match: *` and a year-long immutable Cache-Control. They never change once written, so
//    a cache (CloudFront keeps each object on its own) can never pair a document with another
//    version's signature: a client reads `meta.sequence` inside the signed bytes of fleets.json and
//    fetches `fleets/{that sequence}.json.sig`. The first of these PUTs is also the atomic claim of
//    the sequence: of two publishers building the same sequence, the second gets 412 and stops.
// 3. PUT fleets.pub.pem, then fleets.json.sig, then fleets.json, then registry.json: the well-known
//    names that existing clients read. fleets.json also carries its own signature in
//    `x-amz-meta-signature`, set in the same PUT as the bytes (one object, one version). The
//    well-known fleets.json.sig is kept for older clients; behind a cache it may belong to another
//    version than the cached fleets.json, which the sequenced signature never does.
// 4. Every PUT of a well-known object is conditional on the object being exactly what step 1 saw:
//    `If-Match: <etag>` when it existed, `If-None-Match: *` when it did not (S3 conditional writes,
//    2024; a bucket policy can require them). When two publishers race, the one that read first
//    fails with 412 on its first write after the other's, and no file is ever overwritten by an
//    older version. Old versions' objects are removed by the bucket's lifecycle rule on `fleets/`.
import {
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { RegistryArtifacts, RegistryPublisher } from '../../fleet/ports.ts';
import { UnpublishableRegistryError } from '../../fleet/registry/errors.ts';
import { encodeSignatureFile } from '../../fleet/registry/signer.ts';
import { AwsCallError, awsErrorName, callAws, httpStatusOf } from './aws-call-error.ts';

/** Object names under the prefix; the same names the local folder publisher serves. */
export const REGISTRY_OBJECTS = {
  publicKey: 'fleets.pub.pem',
  signature: 'fleets.json.sig',
  fleets: 'fleets.json',
  registry: 'registry.json',
} as const;

/** Write order: what vouches for a document lands before the document (see the header). */
const WRITE_ORDER = ['publicKey', 'signature', 'fleets', 'registry'] as const;
type RegistryObject = (typeof WRITE_ORDER)[number];

const CONTENT_TYPES: Record<RegistryObject, string> = {
  publicKey: 'application/x-pem-file',
  signature: 'text/plain; charset=utf-8',
  fleets: 'application/json',
  registry: 'application/json',
};

/** Cache-Control of a version's own objects: they never change once written. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The keys (under the prefix) of one version's own objects. */
export function versionKeys(sequence: number): { fleets: string; signature: string } {
  return { fleets: `fleets/${sequence}.json`, signature: `fleets/${sequence}.json.sig` };
}

/** User metadata keys (sent as `x-amz-meta-*`). */
export const REGISTRY_METADATA = { sequence: 'sequence', signature: 'signature' } as const;

const defaultS3Client = new S3Client({});

export interface S3RegistryPublisherProps {
  bucketName: string;
  /**
   * Prefix of the four object keys, e.g. `status.prod/`.
   * @default '' (the files sit at the bucket root)
   */
  keyPrefix?: string;
  /**
   * Swappable for tests and for S3-compatible endpoints.
   * @default a module-scope S3Client using the Lambda's region and role
   */
  client?: S3Client;
  /**
   * Refuses what must never be published (fleet/registry's assertPublishable); throws to refuse.
   * @default only the structural checks of this class
   */
  assertPublishable?: (artifacts: RegistryArtifacts) => void;
}

interface ObjectVersion {
  /** Undefined when the object does not exist. */
  etag: string | undefined;
  /** The version the object belongs to; 0 when absent or written by something other than a publisher. */
  sequence: number;
}

/**
 * @example
 * const publisher = new S3RegistryPublisher({ bucketName: process.env.REGISTRY_BUCKET! });
 * const sequence = (await publisher.lastSequence()) + 1;
 * await publisher.publish({ sequence, fleetsJson, fleetsJsonSignature, registryJson, publicKeyPem, cacheMaxAgeSeconds: 30 });
 */
export class S3RegistryPublisher implements RegistryPublisher {
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #client: S3Client;
  readonly #assertPublishable: (artifacts: RegistryArtifacts) => void;

  constructor(props: S3RegistryPublisherProps) {
    this.#bucket = props.bucketName;
    this.#prefix = props.keyPrefix ?? '';
    this.#client = props.client ?? defaultS3Client;
    this.#assertPublishable = props.assertPublishable ?? (() => {});
  }

  /** The S3 key of one of the registry files, e.g. for building its public URL. */
  keyOf(object: RegistryObject): string {
    return `${this.#prefix}${REGISTRY_OBJECTS[object]}`;
  }

  async lastSequence(): Promise<number> {
    const versions = await this.#readVersions();
    return Math.max(0, ...Object.values(versions).map((version) => version.sequence));
  }

  async publish(artifacts: RegistryArtifacts): Promise<void> {
    assertWellFormed(artifacts);
    this.#assertPublishable(artifacts);
    const seen = await this.#readVersions();
    const published = Math.max(0, ...Object.values(seen).map((version) => version.sequence));
    if (artifacts.sequence <= published) {
      throw new UnpublishableRegistryError(
        'stale_sequence',
        `sequence ${artifacts.sequence} is not above ${published}, already in s3://${this.#bucket}/${this.#prefix}; rebuild with sequence ${published + 1} or more`,
      );
    }
    const signatureBase64 = Buffer.from(artifacts.fleetsJsonSignature).toString('base64');
    const metadata = {
      [REGISTRY_METADATA.sequence]: String(artifacts.sequence),
      [REGISTRY_METADATA.signature]: signatureBase64,
    };
    const version = versionKeys(artifacts.sequence);
    await this.#putVersionObject(
      version.signature,
      encodeSignatureFile(artifacts.fleetsJsonSignature),
      CONTENT_TYPES.signature,
      { [REGISTRY_METADATA.sequence]: String(artifacts.sequence) },
      artifacts.sequence,
    );
    await this.#putVersionObject(
      version.fleets,
      artifacts.fleetsJson,
      CONTENT_TYPES.fleets,
      metadata,
      artifacts.sequence,
    );
    const bodies: Record<RegistryObject, Uint8Array | string> = {
      publicKey: artifacts.publicKeyPem,
      signature: encodeSignatureFile(artifacts.fleetsJsonSignature),
      fleets: artifacts.fleetsJson,
      registry: artifacts.registryJson,
    };
    for (const object of WRITE_ORDER) {
      await this.#put(
        object,
        bodies[object],
        seen[object],
        {
          [REGISTRY_METADATA.sequence]: String(artifacts.sequence),
          ...(object === 'fleets' ? { [REGISTRY_METADATA.signature]: signatureBase64 } : {}),
        },
        artifacts,
      );
    }
  }

  /** Writes one of a version's own objects, only if nothing is there yet: the claim of the sequence. */
  async #putVersionObject(
    suffix: string,
    body: Uint8Array | string,
    contentType: string,
    metadata: Record<string, string>,
    sequence: number,
  ): Promise<void> {
    const key = `${this.#prefix}${suffix}`;
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          CacheControl: IMMUTABLE_CACHE_CONTROL,
          Metadata: metadata,
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      if (isLostRace(error)) {
        throw new UnpublishableRegistryError(
          'stale_sequence',
          `s3://${this.#bucket}/${key} already exists: another publisher claimed sequence ${sequence}; re-read lastSequence and rebuild`,
        );
      }
      throw new AwsCallError({ action: 's3:PutObject', resource: this.#describe(key) }, error);
    }
  }

  async #put(
    object: RegistryObject,
    body: Uint8Array | string,
    seen: ObjectVersion,
    metadata: Record<string, string>,
    artifacts: RegistryArtifacts,
  ): Promise<void> {
    const key = this.keyOf(object);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentType: CONTENT_TYPES[object],
          CacheControl: `public, max-age=${artifacts.cacheMaxAgeSeconds}`,
          Metadata: metadata,
          ...(seen.etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: seen.etag }),
        }),
      );
    } catch (error) {
      if (isLostRace(error)) {
        throw new UnpublishableRegistryError(
          'stale_sequence',
          `s3://${this.#bucket}/${key} changed after it was read (another publisher wrote it); stopped before writing sequence ${artifacts.sequence} over a newer version: re-read lastSequence and rebuild`,
        );
      }
      throw new AwsCallError({ action: 's3:PutObject', resource: this.#describe(key) }, error);
    }
  }

  async #readVersions(): Promise<Record<RegistryObject, ObjectVersion>> {
    const entries = await Promise.all(
      WRITE_ORDER.map(async (object) => [object, await this.#head(this.keyOf(object))] as const),
    );
    const versions = Object.fromEntries(entries) as Record<RegistryObject, ObjectVersion>;
    if (Object.values(versions).every((version) => version.etag === undefined)) {
      // HEAD answers 404 for a missing bucket too; tell "nothing published yet" from "wrong bucket".
      await callAws({ action: 's3:ListBucket', resource: `bucket "${this.#bucket}"` }, () =>
        this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket })),
      );
    }
    return versions;
  }

  async #head(key: string): Promise<ObjectVersion> {
    try {
      const output = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: key }),
      );
      const sequence = Number(output.Metadata?.[REGISTRY_METADATA.sequence]);
      return {
        etag: output.ETag,
        sequence: Number.isSafeInteger(sequence) && sequence > 0 ? sequence : 0,
      };
    } catch (error) {
      if (httpStatusOf(error) === 404 || awsErrorName(error) === 'NotFound') {
        return { etag: undefined, sequence: 0 };
      }
      // Without s3:ListBucket, S3 answers 403 rather than 404 for a missing object.
      throw new AwsCallError(
        { action: 's3:GetObject and s3:ListBucket', resource: this.#describe(key) },
        error,
      );
    }
  }

  #describe(key: string): string {
    return `s3://${this.#bucket}/${key} (bucket "${this.#bucket}")`;
  }
}

/** 412: the object is not what we read. 409: another conditional write to it is in flight. */
function isLostRace(error: unknown): boolean {
  const status = httpStatusOf(error);
  const name = awsErrorName(error);
  return (
    status === 412 ||
    name === 'PreconditionFailed' ||
    (status === 409 && name === 'ConditionalRequestConflict')
  );
}

function assertWellFormed(artifacts: RegistryArtifacts): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(artifacts.sequence) || artifacts.sequence < 1)
    problems.push(`sequence is ${artifacts.sequence}; expected a positive integer`);
  if (artifacts.fleetsJson.byteLength === 0) problems.push('fleets.json is empty');
  if (artifacts.fleetsJsonSignature.byteLength === 0)
    problems.push('fleets.json has no signature; sign it before publishing');
  if (!artifacts.publicKeyPem.includes('PUBLIC KEY'))
    problems.push('the public key is not a PEM public key');
  if (artifacts.registryJson.byteLength === 0) problems.push('registry.json is empty');
  if (!Number.isSafeInteger(artifacts.cacheMaxAgeSeconds) || artifacts.cacheMaxAgeSeconds < 0)
    problems.push(
      `cacheMaxAgeSeconds is ${artifacts.cacheMaxAgeSeconds}; expected whole seconds >= 0 (registry.cacheMaxAgeSeconds)`,
    );
  if (problems.length > 0) {
    const reason = artifacts.fleetsJsonSignature.byteLength === 0 ? 'unsigned' : 'invalid';
    throw new UnpublishableRegistryError(reason, problems.join('; '));
  }
}
