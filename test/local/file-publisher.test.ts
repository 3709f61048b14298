// The folder publisher: whole signed versions on disk, strictly growing sequences, and the guard honoured.
import assert from 'node:assert/strict';
import { createVerify, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { RegistryArtifacts } from '../../fleet/ports.ts';
import { buildFleetsJson } from '../../fleet/registry/index.ts';
import { etagOf, FileRegistryPublisher, RegistryPublishError } from '../../local/file-publisher.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-registry-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

function artifacts(sequence: number): RegistryArtifacts {
  const { bytes: fleetsJson } = buildFleetsJson({
    fleet: 'storefleet.test',
    hostname: 'storefleet.local',
    sequence,
    nowMs: Date.now(),
    expiresAfterSeconds: 900,
    nodes: [
      {
        id: 'store-01.eu-central.storefleet.test',
        tcp: '/ip4/127.0.0.1/tcp/30303/p2p/16Uiu2HAmPLe7Mzm8TsYUubgCAW1aJoeFScxrLj8ppHFivPo97bUZ',
      },
    ],
  });
  return {
    sequence,
    fleetsJson,
    fleetsJsonSignature: new Uint8Array(sign('sha256', fleetsJson, privateKey)),
    registryJson: new TextEncoder().encode(JSON.stringify({ sequence })),
    publicKeyPem,
    cacheMaxAgeSeconds: 10,
  };
}

describe('publishing a version', () => {
  it('writes the four files, with a base64 DER signature that verifies against the document', async () => {
    const dir = freshDir();
    const publisher = await FileRegistryPublisher.open(dir);
    await publisher.publish(artifacts(1));
    const fleetsJson = readFileSync(join(dir, 'fleets.json'));
    const signature = Buffer.from(
      readFileSync(join(dir, 'fleets.json.sig'), 'utf8').trim(),
      'base64',
    );
    const verifier = createVerify('sha256');
    verifier.update(fleetsJson);
    assert.ok(verifier.verify(readFileSync(join(dir, 'fleets.pub.pem'), 'utf8'), signature));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8')), { sequence: 1 });
    assert.equal(JSON.parse(fleetsJson.toString('utf8')).meta.sequence, 1);
    assert.equal(await publisher.lastSequence(), 1);
    assert.equal(publisher.current()?.fleetsEtag, etagOf(fleetsJson));
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.endsWith('.tmp')),
      [],
    );
  });

  it('tells listeners about each new version', async () => {
    const publisher = await FileRegistryPublisher.open(freshDir());
    const seen: number[] = [];
    publisher.onPublish((published) => seen.push(published.artifacts.sequence));
    await publisher.publish(artifacts(1));
    await publisher.publish(artifacts(4));
    assert.deepEqual(seen, [1, 4]);
  });
});

describe('refusing what must not be published', () => {
  it('refuses a sequence that is not above the last one, also after reopening', async () => {
    const dir = freshDir();
    const publisher = await FileRegistryPublisher.open(dir);
    await publisher.publish(artifacts(5));
    await assert.rejects(publisher.publish(artifacts(5)), RegistryPublishError);
    await assert.rejects(publisher.publish(artifacts(3)), /not above the last published 5/);
    const reopened = await FileRegistryPublisher.open(dir);
    assert.equal(await reopened.lastSequence(), 5);
    assert.equal(reopened.current()?.artifacts.sequence, 5);
    await assert.rejects(reopened.publish(artifacts(5)), RegistryPublishError);
    await reopened.publish(artifacts(6));
  });

  it('refuses, by default, what fleet/registry refuses: a forged signature or an expired document', async () => {
    const publisher = await FileRegistryPublisher.open(freshDir(), {
      nowMs: () => Date.now() + 3600_000,
    });
    await assert.rejects(publisher.publish(artifacts(1)), /expired|not after now/);
    const honest = await FileRegistryPublisher.open(freshDir());
    const forged = { ...artifacts(1), fleetsJsonSignature: artifacts(2).fleetsJsonSignature };
    await assert.rejects(honest.publish(forged), /does not verify/);
    assert.equal(honest.current(), undefined);
  });

  it('refuses an unsigned or empty document', async () => {
    const publisher = await FileRegistryPublisher.open(freshDir());
    await assert.rejects(
      publisher.publish({ ...artifacts(1), fleetsJsonSignature: new Uint8Array() }),
      /no signature/,
    );
    await assert.rejects(
      publisher.publish({ ...artifacts(1), fleetsJson: new Uint8Array() }),
      /empty/,
    );
    assert.equal(publisher.current(), undefined);
  });

  it('refuses what the publishability guard refuses and leaves the previous version in place', async () => {
    const dir = freshDir();
    const publisher = await FileRegistryPublisher.open(dir, {
      assertPublishable: (candidate) => {
        if (candidate.sequence === 2) throw new Error('no store node listed');
      },
    });
    await publisher.publish(artifacts(1));
    await assert.rejects(publisher.publish(artifacts(2)), /no store node listed/);
    assert.equal(publisher.current()?.artifacts.sequence, 1);
    assert.equal(JSON.parse(readFileSync(join(dir, 'fleets.json'), 'utf8')).meta.sequence, 1);
  });
});
