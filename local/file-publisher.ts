// Publishes signed registry versions into a local folder, atomically, and keeps the current one in memory for the HTTP server.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryArtifacts, RegistryPublisher } from '../fleet/ports.ts';
import { assertPublishable, parseFleetsJsonBytes } from '../fleet/registry/index.ts';

/** File names clients fetch; docs/registry.md describes them. */
export const REGISTRY_FILES = {
  fleets: 'fleets.json',
  signature: 'fleets.json.sig',
  publicKey: 'fleets.pub.pem',
  registry: 'registry.json',
  /** The sequence of the version on disk, written last so a torn publish is never mistaken for a whole one. */
  sequence: 'sequence',
} as const;

/** Thrown when a version may not be published; the message says what to fix. */
export class RegistryPublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryPublishError';
  }
}

/** A published version as the HTTP server serves it. */
export interface PublishedRegistry {
  artifacts: RegistryArtifacts;
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
  /** The clock the default guard judges expiry by. @default Date.now */
  nowMs?: () => number;
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
    });
  };
}

export function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('base64url')}"`;
}

/**
 * RegistryPublisher over a folder (.storefleet/registry/ by default).
 * @example
 * const publisher = await FileRegistryPublisher.open('.storefleet/registry', { assertPublishable });
 * await publisher.publish(artifacts);
 * publisher.current()?.fleetsEtag;
 */
export class FileRegistryPublisher implements RegistryPublisher {
  readonly dir: string;
  readonly #assertPublishable: (artifacts: RegistryArtifacts, lastSequence: number) => void;
  #current: PublishedRegistry | undefined;
  #lastSequence = 0;
  #publishing: Promise<void> = Promise.resolve();
  readonly #listeners = new Set<(published: PublishedRegistry) => void>();

  private constructor(dir: string, options: FileRegistryPublisherOptions) {
    this.dir = dir;
    this.#assertPublishable =
      options.assertPublishable ?? guardWithAssertPublishable(options.nowMs ?? Date.now);
  }

  /** Opens the folder and loads the version on disk, so a restarted server serves it at once. */
  static async open(
    dir: string,
    options: FileRegistryPublisherOptions = {},
  ): Promise<FileRegistryPublisher> {
    await mkdir(dir, { recursive: true });
    const publisher = new FileRegistryPublisher(dir, options);
    await publisher.#loadFromDisk();
    return publisher;
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

  publish(artifacts: RegistryArtifacts): Promise<void> {
    // Serialised so that two publishes can never interleave their renames.
    const run = this.#publishing.then(() => this.#publishNow(artifacts));
    this.#publishing = run.catch(() => {});
    return run;
  }

  async #publishNow(artifacts: RegistryArtifacts): Promise<void> {
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
    const signatureBase64 = Buffer.from(artifacts.fleetsJsonSignature).toString('base64');
    // The key and signature land before the document they vouch for.
    await this.#writeAtomically(REGISTRY_FILES.publicKey, artifacts.publicKeyPem);
    await this.#writeAtomically(REGISTRY_FILES.signature, `${signatureBase64}\n`);
    await this.#writeAtomically(REGISTRY_FILES.fleets, artifacts.fleetsJson);
    await this.#writeAtomically(REGISTRY_FILES.registry, artifacts.registryJson);
    const files = artifacts.files ?? [];
    for (const file of files) await this.#writeAtomically(file.name, file.bytes);
    await this.#writeAtomically(
      REGISTRY_FILES.sequence,
      `${JSON.stringify({
        sequence: artifacts.sequence,
        cacheMaxAgeSeconds: artifacts.cacheMaxAgeSeconds,
        files: files.map(({ name, contentType }) => ({ name, contentType })),
      })}\n`,
    );
    this.#lastSequence = artifacts.sequence;
    this.#current = published(artifacts, signatureBase64);
    for (const listener of this.#listeners) listener(this.#current);
  }

  async #writeAtomically(name: string, content: string | Uint8Array): Promise<void> {
    const target = join(this.dir, name);
    const temp = `${target}.${process.pid}.tmp`;
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    // The rename itself is durable only once the directory entry is on disk.
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async #loadFromDisk(): Promise<void> {
    const read = (name: string) => readFile(join(this.dir, name)).catch(() => undefined);
    const sequenceFile = await read(REGISTRY_FILES.sequence);
    if (!sequenceFile) return;
    const { sequence, cacheMaxAgeSeconds, files } = JSON.parse(sequenceFile.toString('utf8')) as {
      sequence: number;
      cacheMaxAgeSeconds: number;
      files?: Array<{ name: string; contentType: string }>;
    };
    this.#lastSequence = sequence;
    const [fleetsJson, signature, publicKey, registryJson] = await Promise.all([
      read(REGISTRY_FILES.fleets),
      read(REGISTRY_FILES.signature),
      read(REGISTRY_FILES.publicKey),
      read(REGISTRY_FILES.registry),
    ]);
    if (!fleetsJson || !signature || !publicKey || !registryJson) return;
    const extra = await Promise.all(
      (files ?? []).map(async ({ name, contentType }) => {
        const bytes = await read(name);
        return bytes === undefined
          ? undefined
          : { name, contentType, bytes: new Uint8Array(bytes) };
      }),
    );
    if (extra.includes(undefined)) return;
    const signatureBase64 = signature.toString('utf8').trim();
    const artifacts: RegistryArtifacts = {
      sequence,
      cacheMaxAgeSeconds,
      fleetsJson: new Uint8Array(fleetsJson),
      fleetsJsonSignature: new Uint8Array(Buffer.from(signatureBase64, 'base64')),
      registryJson: new Uint8Array(registryJson),
      publicKeyPem: publicKey.toString('utf8'),
      ...(extra.length === 0 ? {} : { files: extra as NonNullable<RegistryArtifacts['files']> }),
    };
    this.#current = published(artifacts, signatureBase64);
  }
}

function published(artifacts: RegistryArtifacts, signatureBase64: string): PublishedRegistry {
  return {
    artifacts,
    fleetsEtag: etagOf(artifacts.fleetsJson),
    registryEtag: etagOf(artifacts.registryJson),
    signatureBase64,
  };
}
