// Detached ECDSA P-256 signatures: verify over the exact published bytes, interoperate with openssl.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { SigningKeyConfigError } from '../../../fleet/registry/errors.ts';
import { buildFleetsJson } from '../../../fleet/registry/fleets-json.ts';
import {
  decodeSignatureFile,
  encodeSignatureFile,
  isDerEcdsaSignature,
  publicKeyFingerprint,
  publicKeyPemFromDer,
  verifyRegistrySignature,
} from '../../../fleet/registry/signer.ts';
import { generateRegistryKeyPem, registrySignerFromPem } from '../../../local/file-signer.ts';
import { sixStoreNodes } from './fixtures.ts';

const SEED = 7;
const signer = registrySignerFromPem(generateRegistryKeyPem(), 'test key');
const otherSigner = registrySignerFromPem(generateRegistryKeyPem(), 'other test key');
let publicKeyPem = '';
beforeAll(async () => {
  publicKeyPem = await signer.publicKeyPem();
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('sign, then verify', () => {
  it('verifies a signature of any bytes with the signer public key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const signature = await signer.sign(bytes);
        assert.ok(isDerEcdsaSignature(signature));
        assert.equal(verifyRegistrySignature(bytes, signature, publicKeyPem), true);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('refuses the signature once any byte of the document is flipped', async () => {
    const { bytes } = buildFleetsJson({
      fleet: 'status.prod',
      hostname: 'h',
      sequence: 1,
      nowMs: 0,
      expiresAfterSeconds: 900,
      nodes: sixStoreNodes(),
    });
    const signature = await signer.sign(bytes);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bytes.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (index, mask) => {
          const altered = Uint8Array.from(bytes);
          altered[index] = (altered[index] as number) ^ mask;
          assert.equal(verifyRegistrySignature(altered, signature, publicKeyPem), false);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('refuses a flipped signature byte, a truncated signature, another key and garbage', async () => {
    const bytes = new TextEncoder().encode('{"meta":{}}\n');
    const signature = await signer.sign(bytes);
    const flipped = Uint8Array.from(signature);
    flipped[flipped.length - 1] = (flipped.at(-1) as number) ^ 1;
    assert.equal(verifyRegistrySignature(bytes, flipped, publicKeyPem), false);
    assert.equal(verifyRegistrySignature(bytes, signature.subarray(0, 20), publicKeyPem), false);
    assert.equal(
      verifyRegistrySignature(bytes, signature, await otherSigner.publicKeyPem()),
      false,
    );
    assert.equal(verifyRegistrySignature(bytes, new Uint8Array(0), publicKeyPem), false);
    assert.equal(verifyRegistrySignature(bytes, new Uint8Array(64).fill(7), publicKeyPem), false);
  });
});

describe('keys', () => {
  it('refuses a public key that is not P-256, saying what it is', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    assert.throws(
      () => verifyRegistrySignature(new Uint8Array(1), new Uint8Array(8), rsa),
      (error: unknown) => {
        assert.ok(error instanceof SigningKeyConfigError);
        assert.match(error.message, /is a rsa key; expected an ECDSA P-256/);
        return true;
      },
    );
    assert.throws(
      () => verifyRegistrySignature(new Uint8Array(1), new Uint8Array(8), k1),
      /is a EC secp256k1 key/,
    );
    assert.throws(
      () => verifyRegistrySignature(new Uint8Array(1), new Uint8Array(8), 'not a key'),
      /not a PEM public key/,
    );
  });

  it('turns a DER SubjectPublicKeyInfo (what KMS GetPublicKey returns) into the same PEM', () => {
    const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
    assert.equal(publicKeyPemFromDer(der), publicKeyPem);
    assert.throws(
      () => publicKeyPemFromDer(new Uint8Array([1, 2, 3]), 'kms key'),
      /^SigningKeyConfigError: kms key: not a DER SubjectPublicKeyInfo/,
    );
  });

  it('names the key by the SHA-256 of its DER SubjectPublicKeyInfo', async () => {
    assert.match(signer.keyId, /^sha256:[0-9a-f]{64}$/);
    assert.equal(publicKeyFingerprint(publicKeyPem), signer.keyId);
    assert.notEqual(otherSigner.keyId, signer.keyId);
  });
});

describe('the .sig file', () => {
  it('is one line of base64 that decodes back to the DER signature', async () => {
    const signature = await signer.sign(new Uint8Array([1, 2, 3]));
    const file = encodeSignatureFile(signature);
    assert.match(file, /^[A-Za-z0-9+/]+={0,2}\n$/);
    assert.deepEqual(decodeSignatureFile(new TextEncoder().encode(file)), signature);
    assert.deepEqual(decodeSignatureFile(signature), signature, 'raw DER is accepted too');
    assert.equal(decodeSignatureFile(new TextEncoder().encode('not base64!')), undefined);
    assert.equal(decodeSignatureFile(new TextEncoder().encode('AAAA')), undefined);
  });
});

describe('interoperates with openssl, as docs/registry.md tells clients', {
  skip: !hasOpenssl(),
}, () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'storefleet-sig-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('openssl dgst -sha256 -verify accepts our signature and rejects an altered file', async () => {
    // Prepare
    const { bytes } = buildFleetsJson({
      fleet: 'status.prod',
      hostname: 'h',
      sequence: 9,
      nowMs: 1_700_000_000_000,
      expiresAfterSeconds: 900,
      nodes: sixStoreNodes(),
    });
    writeFileSync(join(dir, 'fleets.json'), bytes);
    writeFileSync(join(dir, 'fleets.json.der'), await signer.sign(bytes));
    writeFileSync(join(dir, 'fleets.pub.pem'), publicKeyPem);
    writeFileSync(join(dir, 'altered.json'), Buffer.concat([bytes, Buffer.from(' ')]));
    const verify = (file: string) =>
      spawnSync(
        'openssl',
        ['dgst', '-sha256', '-verify', 'fleets.pub.pem', '-signature', 'fleets.json.der', file],
        { cwd: dir, encoding: 'utf8' },
      );

    // Act + Assess
    const good = verify('fleets.json');
    const altered = verify('altered.json');
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /Verified OK/);
    assert.equal(altered.status, 1);
    assert.match(altered.stdout, /Verification failure/);
  });

  it('we verify a signature made by openssl with a key openssl generated', () => {
    // Prepare
    execFileSync(
      'openssl',
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'],
      { cwd: dir, stdio: 'ignore' },
    );
    execFileSync('openssl', ['pkey', '-in', 'key.pem', '-pubout', '-out', 'openssl.pub.pem'], {
      cwd: dir,
      stdio: 'ignore',
    });
    writeFileSync(join(dir, 'doc.json'), '{"meta":{"hostname":"h"}}\n');
    execFileSync(
      'openssl',
      ['dgst', '-sha256', '-sign', 'key.pem', '-out', 'doc.sig', 'doc.json'],
      { cwd: dir, stdio: 'ignore' },
    );

    // Act
    const pem = readFileSync(join(dir, 'openssl.pub.pem'), 'utf8');
    const signature = decodeSignatureFile(readFileSync(join(dir, 'doc.sig')));

    // Assess
    assert.ok(signature);
    assert.equal(
      verifyRegistrySignature(
        new TextEncoder().encode('{"meta":{"hostname":"h"}}\n'),
        signature,
        pem,
      ),
      true,
    );
  });
});
