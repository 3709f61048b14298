// Publishes signed registry versions into a local folder, each version as one unit, and keeps the current one in memory for the HTTP server.
import { createHash } from 'node:crypto';
import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryArtifacts, RegistryPublisher } from '../fleet/ports.ts';
import { assertPublishable, parseFleetsJsonBytes } from '../fleet/registry/index.ts';
import { type StoredVersion, VersionedFolder, VersionRejectedError } from './versioned-folder.ts';

/** File names clients fetch; docs/registry.md describes them. */
export const REGISTRY_FILES = {
  fleets: 'fleets.json',
  signature: 'fleets.json.sig',
  publicKey: 'fleets.pub.pem',
  registry: 'registry.json',
} as const;

/** Files of the folder layout before versions were published as one unit; removed on open. */
const LEGACY_FILES = [...Object.values(REGISTRY_FILES), 'sequence'];
const CACHE_ATTRIBUTE = 'cacheMaxAgeSeconds';

/** Thrown when a version may not be published; the message says what to fix. */
export class RegistryPublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryPublishError';
  }
}

/**
 * Registry artifacts with their further named files (`files`: another signed document, a
 * candidates list): they are published, verified and served as one unit.
 */
export type LocalRegistryArtifacts = RegistryArtifacts;

/** A published version as the HTTP server serves it. */
export interface PublishedRegistry {
  artifacts: LocalRegistryArtifacts;
  /** Strong ETag of fleets.json: a hash of its exact bytes. */
  fleetsEtag: string;
  registryEtag: string;
  /** base64 of the DER signature, the content of fleets.json.sig. */
  signatureBase64: string;
}

export interface FileRegistryPublisherOptions {
  /**
   * Refuses what must never be published; throws to refuse.
   * @default fleet/registry's assertPublishable (valid, non-empty, signed, unexpired, newer)
   */
  assertPublishable?: (artifacts: RegistryArtifacts, lastSequence: number) => void;
  /** The clock the default guard and the check on open judge expiry by. @default Date.now */
  nowMs?: () => number;
  /** When given, a version on disk signed with another key (the key was rotated) is not served. */
  expectedPublicKeyPem?: string;
  /** Versions refused on open and leftovers removed. */
  log?: (line: string) => void;
}

/** fleet/registry's guard, applied to the exact bytes about to be written. */
export function guardWithAssertPublishable(nowMs: () => number) {
  return (artifacts: RegistryArtifacts, lastSequence: number): void => {
    assertPublishable({
      document: parseFleetsJsonBytes(artifacts.fleetsJson),
      bytes: artifacts.fleetsJson,
      signature: artifacts.fleetsJsonSignature,
      publicKeyPem: artifacts.publicKeyPem,
      nowMs: nowMs(),
      lastSequence,
      sequence: artifacts.sequence,
    });
  };
}

export function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('base64url')}"`;
}

function bytesOf(content: Uint8Array | string): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : content;
}

/**
 * RegistryPublisher over a folder (.storefleet/registry/ by default). Each version is one folder
 * (`versions/<sequence>/`) made current by one atomic switch; on open, what is on disk is checked
 * (manifest hashes, fleets.json schema, signature, meta.sequence, expiry) before it is served, and
 * what fails is never served.
 * @example
 * const publisher = await FileRegistryPublisher.open('.storefleet/registry', { assertPublishable });
 * await publisher.publish(artifacts);
 * publisher.current()?.fleetsEtag;
 */
export class FileRegistryPublisher implements RegistryPublisher {
  readonly dir: string;
  readonly #folder: VersionedFolder;
  readonly #assertPublishable: (artifacts: RegistryArtifacts, lastSequence: number) => void;
  #current: PublishedRegistry | undefined;
  #lastSequence: number;
  #publishing: Promise<void> = Promise.resolve();
  readonly #listeners = new Set<(published: PublishedRegistry) => void>();
  /** Versions found on disk that did not verify, with the reason. */
  readonly rejectedOnOpen: readonly { sequence: number; reason: string }[];

  private constructor(
    dir: string,
    folder: VersionedFolder,
    options: FileRegistryPublisherOptions,
    opened: {
      current: PublishedRegistry | undefined;
      highestSequence: number;
      rejected: { sequence: number; reason: string }[];
    },
  ) {
    this.dir = dir;
    this.#folder = folder;
    this.#assertPublishable =
      options.assertPublishable ?? guardWithAssertPublishable(options.nowMs ?? Date.now);
    this.#current = opened.current;
    this.#lastSequence = opened.highestSequence;
    this.rejectedOnOpen = opened.rejected;
  }

  /** Opens the folder and loads the newest version on disk that verifies, so a restarted server serves it at once. */
  static async open(
    dir: string,
    options: FileRegistryPublisherOptions = {},
  ): Promise<FileRegistryPublisher> {
    const nowMs = options.nowMs ?? Date.now;
    const opened = await VersionedFolder.open(dir, {
      verify: (version) => verifyStoredVersion(version, nowMs(), options.expectedPublicKeyPem),
      ...(options.log ? { log: options.log } : {}),
    });
    for (const name of LEGACY_FILES) {
      const stat = await lstat(join(dir, name)).catch(() => undefined);
      if (stat && !stat.isSymbolicLink()) await rm(join(dir, name), { force: true });
    }
    await opened.folder.linkStableNames(Object.values(REGISTRY_FILES));
    const current = opened.current ? fromStored(opened.current) : undefined;
    return new FileRegistryPublisher(dir, opened.folder, options, {
      current,
      highestSequence: Math.max(opened.highestSequence, current?.artifacts.sequence ?? 0),
      rejected: opened.rejected,
    });
  }

  async lastSequence(): Promise<number> {
    return this.#lastSequence;
  }

  current(): PublishedRegistry | undefined {
    return this.#current;
  }

  /** Called after each successful publish; returns the unsubscribe function. */
  onPublish(listener: (published: PublishedRegistry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(artifacts: LocalRegistryArtifacts): Promise<void> {
    // Serialised so that two publishes can never interleave.
    const run = this.#publishing.then(() => this.#publishNow(artifacts));
    this.#publishing = run.catch(() => {});
    return run;
  }

  async #publishNow(artifacts: LocalRegistryArtifacts): Promise<void> {
    if (!Number.isSafeInteger(artifacts.sequence) || artifacts.sequence <= this.#lastSequence) {
      throw new RegistryPublishError(
        `sequence ${artifacts.sequence} is not above the last published ${this.#lastSequence}; reserve a new sequence`,
      );
    }
    if (artifacts.fleetsJson.byteLength === 0)
      throw new RegistryPublishError('fleets.json is empty; refusing to publish it');
    if (artifacts.fleetsJsonSignature.byteLength === 0)
      throw new RegistryPublishError('fleets.json has no signature; sign it before publishing');
    if (!artifacts.publicKeyPem.includes('PUBLIC KEY'))
      throw new RegistryPublishError('the public key is not a PEM public key');
    this.#assertPublishable(artifacts, this.#lastSequence);
    // X-Registry-Sequence is this label: it must be the document's own meta.sequence.
    const labelled = metaSequenceOf(artifacts.fleetsJson);
    if (labelled !== artifacts.sequence) {
      throw new RegistryPublishError(
        `the version is labelled ${artifacts.sequence} but fleets.json says meta.sequence ${labelled}; publish the sequence the document was built with`,
      );
    }
    const signatureBase64 = Buffer.from(artifacts.fleetsJsonSignature).toString('base64');
    const files = new Map<string, Uint8Array>([
      [REGISTRY_FILES.fleets, artifacts.fleetsJson],
      [REGISTRY_FILES.signature, bytesOf(`${signatureBase64}\n`)],
      [REGISTRY_FILES.publicKey, bytesOf(artifacts.publicKeyPem)],
      [REGISTRY_FILES.registry, artifacts.registryJson],
    ]);
    for (const file of artifacts.files ?? []) {
      if (files.has(file.name))
        throw new RegistryPublishError(`extra file "${file.name}" is a registry file`);
      files.set(file.name, file.bytes);
    }
    await this.#folder.publish(artifacts.sequence, files, {
      [CACHE_ATTRIBUTE]: artifacts.cacheMaxAgeSeconds,
    });
    this.#lastSequence = artifacts.sequence;
    this.#current = published(artifacts, signatureBase64);
    for (const listener of this.#listeners) listener(this.#current);
  }
}

/** meta.sequence of a fleets.json, without the schema (the guard judges that); undefined when absent or not JSON. */
function metaSequenceOf(bytes: Uint8Array): unknown {
  try {
    return (JSON.parse(new TextDecoder().decode(bytes)) as { meta?: { sequence?: unknown } }).meta
      ?.sequence;
  } catch {
    return undefined;
  }
}

/** What a version on disk must pass before it is served: the same checks a client makes. */
function verifyStoredVersion(
  version: StoredVersion,
  nowMs: number,
  expectedPublicKeyPem: string | undefined,
): void {
  const file = (name: string) => {
    const bytes = version.files.get(name);
    if (!bytes) throw new VersionRejectedError(name, 'is missing from the version');
    return bytes;
  };
  const fleetsJson = file(REGISTRY_FILES.fleets);
  const signature = Buffer.from(
    new TextDecoder().decode(file(REGISTRY_FILES.signature)).trim(),
    'base64',
  );
  const publicKeyPem = new TextDecoder().decode(file(REGISTRY_FILES.publicKey));
  file(REGISTRY_FILES.registry);
  if (expectedPublicKeyPem !== undefined && publicKeyPem.trim() !== expectedPublicKeyPem.trim()) {
    throw new VersionRejectedError(
      REGISTRY_FILES.publicKey,
      'is not the current signing key (the key was rotated)',
    );
  }
  assertPublishable({
    bytes: fleetsJson,
    signature: new Uint8Array(signature),
    publicKeyPem,
    nowMs,
    lastSequence: version.sequence - 1,
    sequence: version.sequence,
  });
}

function fromStored(version: StoredVersion): PublishedRegistry {
  const files = new Map(version.files);
  const take = (name: string) => {
    const bytes = files.get(name) as Uint8Array;
    files.delete(name);
    return bytes;
  };
  const signatureBase64 = new TextDecoder().decode(take(REGISTRY_FILES.signature)).trim();
  const artifacts: LocalRegistryArtifacts = {
    sequence: version.sequence,
    cacheMaxAgeSeconds: Number(version.attributes[CACHE_ATTRIBUTE] ?? 0),
    fleetsJson: take(REGISTRY_FILES.fleets),
    fleetsJsonSignature: new Uint8Array(Buffer.from(signatureBase64, 'base64')),
    registryJson: take(REGISTRY_FILES.registry),
    publicKeyPem: new TextDecoder().decode(take(REGISTRY_FILES.publicKey)),
    ...(files.size > 0
      ? {
          files: [...files].map(([name, bytes]) => ({
            name,
            bytes,
            contentType: contentTypeOf(name),
          })),
        }
      : {}),
  };
  return published(artifacts, signatureBase64);
}

function published(artifacts: LocalRegistryArtifacts, signatureBase64: string): PublishedRegistry {
  return {
    artifacts,
    fleetsEtag: etagOf(artifacts.fleetsJson),
    registryEtag: etagOf(artifacts.registryJson),
    signatureBase64,
  };
}

/** The Content-Type a further file is served with: its name says what it holds. */
function contentTypeOf(name: string): string {
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.pem')) return 'application/x-pem-file';
  return 'text/plain; charset=utf-8';
}
