// A registry signer backed by a PEM key file, created on first use so that a fresh clone can publish.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SigningKeyConfigError } from '../fleet/registry/errors.ts';
import {
  assertP256,
  describeNonP256Key,
  publicKeyFingerprint,
  type RegistrySigner,
} from '../fleet/registry/signer.ts';

/** Only the owner may read the private key, as ssh expects of its keys. */
const KEY_FILE_MODE = 0o600;
const KEY_DIRECTORY_MODE = 0o700;

const MAKE_A_KEY =
  'delete the file to have a new key generated, or replace it with a PKCS#8 P-256 key: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out KEY.pem';

export class FileRegistrySigner implements RegistrySigner {
  readonly keyId: string;
  readonly path: string;
  readonly #privateKey: KeyObject;
  readonly #publicKeyPem: string;

  constructor(privateKey: KeyObject, path: string) {
    assertP256(privateKey, path);
    this.path = path;
    this.#privateKey = privateKey;
    this.#publicKeyPem = createPublicKey(privateKey).export({
      type: 'spki',
      format: 'pem',
    }) as string;
    this.keyId = publicKeyFingerprint(this.#publicKeyPem);
  }

  async sign(bytes: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(sign('sha256', bytes, { key: this.#privateKey, dsaEncoding: 'der' }));
  }

  async publicKeyPem(): Promise<string> {
    return this.#publicKeyPem;
  }
}

/**
 * A signer from a private key PEM (PKCS#8, or SEC1 `EC PRIVATE KEY`).
 * @throws SigningKeyConfigError when the text is not a P-256 private key.
 */
export function registrySignerFromPem(privateKeyPem: string, source: string): FileRegistrySigner {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch (error) {
    throw new SigningKeyConfigError(
      source,
      `not a PEM private key (${(error as Error).message}); ${MAKE_A_KEY}`,
    );
  }
  const problem = describeNonP256Key(key);
  if (problem) throw new SigningKeyConfigError(source, `${problem}; ${MAKE_A_KEY}`);
  return new FileRegistrySigner(key, source);
}

/** A new P-256 private key as PKCS#8 PEM. */
export function generateRegistryKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Loads the registry signing key from `path`, creating a new P-256 key there (mode 0600, parent
 * directories 0700) when the file does not exist.
 * @throws SigningKeyConfigError when the file exists but is not a usable key.
 * @example
 * const signer = await loadOrCreateFileSigner('.storefleet/registry-signing-key.pem');
 * const signature = await signer.sign(fleetsJsonBytes);
 */
export async function loadOrCreateFileSigner(path: string): Promise<FileRegistrySigner> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if (!isMissing(error)) {
      throw new SigningKeyConfigError(
        path,
        `cannot read the key file: ${(error as Error).message}`,
      );
    }
    await mkdir(dirname(path), { recursive: true, mode: KEY_DIRECTORY_MODE });
    const created = generateRegistryKeyPem();
    try {
      // `wx`: when two processes start at once, the second keeps the first one's key.
      await writeFile(path, created, { mode: KEY_FILE_MODE, flag: 'wx' });
      pem = created;
    } catch (writeError) {
      if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SigningKeyConfigError(
          path,
          `cannot create the key file: ${(writeError as Error).message}`,
        );
      }
      pem = await readFile(path, 'utf8');
    }
  }
  return registrySignerFromPem(pem, path);
}
