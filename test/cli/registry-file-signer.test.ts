// The file-backed registry signer creates its key on first use and refuses key files it cannot use.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { SigningKeyConfigError } from '../../fleet/registry/errors.ts';
import { verifyRegistrySignature } from '../../fleet/registry/signer.ts';
import { loadOrCreateFileSigner } from '../../local/file-signer.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storefleet-key-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('creates the signing key on a fresh clone', () => {
  it('writes a PKCS#8 P-256 key with mode 0600 under new parent directories, then reuses it', async () => {
    // Prepare
    const path = join(dir, 'fresh', '.storefleet', 'registry-signing-key.pem');

    // Act
    const created = await loadOrCreateFileSigner(path);
    const loaded = await loadOrCreateFileSigner(path);

    // Assess
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.match(await readFile(path, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(loaded.keyId, created.keyId);
    assert.match(created.keyId, /^sha256:[0-9a-f]{64}$/);
    const bytes = new TextEncoder().encode('{"fleets":{}}\n');
    assert.ok(
      verifyRegistrySignature(bytes, await created.sign(bytes), await loaded.publicKeyPem()),
    );
    assert.match(await created.publicKeyPem(), /^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('gives two processes starting at once the same key', async () => {
    const path = join(dir, 'race', 'key.pem');
    const signers = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateFileSigner(path)));
    assert.equal(new Set(signers.map((signer) => signer.keyId)).size, 1);
  });

  it('reads an EC P-256 key in SEC1 form (openssl ecparam -genkey)', async () => {
    const path = join(dir, 'sec1.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(path, privateKey.export({ type: 'sec1', format: 'pem' }) as string, {
      mode: 0o600,
    });
    const signer = await loadOrCreateFileSigner(path);
    const bytes = new Uint8Array([1, 2, 3]);
    assert.ok(
      verifyRegistrySignature(bytes, await signer.sign(bytes), await signer.publicKeyPem()),
    );
  });
});

describe('refuses a key file it cannot sign with', () => {
  const unusable: Array<[string, () => string, RegExp]> = [
    ['text that is not a PEM key', () => 'hello\n', /not a PEM private key/],
    [
      'an RSA key',
      () =>
        generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }) as string,
      /is a rsa key; expected an ECDSA P-256/,
    ],
    [
      'a secp256k1 key',
      () =>
        generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }) as string,
      /is a EC secp256k1 key/,
    ],
    [
      'a public key in place of the private one',
      () =>
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
          type: 'spki',
          format: 'pem',
        }) as string,
      /not a PEM private key/,
    ],
  ];
  for (const [what, content, message] of unusable) {
    it(`refuses ${what}, naming the file and how to fix it`, async () => {
      // Prepare
      const path = join(dir, `${what.replaceAll(' ', '-')}.pem`);
      const written = content();
      await writeFile(path, written);

      // Act + Assess
      await assert.rejects(loadOrCreateFileSigner(path), (error: unknown) => {
        assert.ok(error instanceof SigningKeyConfigError);
        assert.ok(error.message.startsWith(`${path}: `), error.message);
        assert.match(error.message, message);
        assert.match(
          error.message,
          /openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256/,
        );
        return true;
      });
      assert.equal(
        await readFile(path, 'utf8'),
        written,
        'a refused key file is never overwritten',
      );
    });
  }

  it('refuses a path it cannot read (a directory)', async () => {
    await assert.rejects(loadOrCreateFileSigner(dir), (error: unknown) => {
      assert.ok(error instanceof SigningKeyConfigError);
      assert.match(error.message, /cannot read the key file/);
      return true;
    });
  });
});
