// The registry folder after crashes and damage: each version whole or absent, and nothing served that does not verify.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { buildFleetsJson, parseFleetsJsonBytes } from '../../fleet/registry/index.ts';
import {
  FileRegistryPublisher,
  type LocalRegistryArtifacts,
  RegistryPublishError,
} from '../../local/file-publisher.ts';
import { CURRENT_LINK, VERSIONS_DIR } from '../../local/versioned-folder.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-versions-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
const key = keyPair();

function artifacts(
  sequence: number,
  options: { nowMs?: number; signer?: ReturnType<typeof keyPair> } = {},
): LocalRegistryArtifacts {
  const signer = options.signer ?? key;
  const { bytes: fleetsJson } = buildFleetsJson({
    fleet: 'storefleet.test',
    hostname: 'storefleet.local',
    sequence,
    nowMs: options.nowMs ?? Date.now(),
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
    fleetsJsonSignature: new Uint8Array(sign('sha256', fleetsJson, signer.privateKey)),
    registryJson: new TextEncoder().encode(JSON.stringify({ sequence })),
    publicKeyPem: signer.publicKeyPem,
    cacheMaxAgeSeconds: 10,
  };
}

const versionDir = (dir: string, sequence: number) =>
  join(dir, VERSIONS_DIR, String(sequence).padStart(12, '0'));

/** What a client checks: the signature of the served bytes, and the label against meta.sequence. */
function assertServedVerifies(publisher: FileRegistryPublisher, sequence: number) {
  const current = publisher.current();
  assert.ok(current, 'nothing is served');
  assert.equal(current.artifacts.sequence, sequence);
  assert.equal(parseFleetsJsonBytes(current.artifacts.fleetsJson).meta.sequence, sequence);
  assert.ok(
    verify(
      'sha256',
      current.artifacts.fleetsJson,
      current.artifacts.publicKeyPem,
      Buffer.from(current.signatureBase64, 'base64'),
    ),
  );
}

describe('a version is one unit', () => {
  it('lands in its own folder with a manifest, and `current` switches to it in one step', async () => {
    const dir = freshDir();
    const publisher = await FileRegistryPublisher.open(dir);
    await publisher.publish(artifacts(1));
    await publisher.publish(artifacts(2));
    assert.equal(readlinkSync(join(dir, CURRENT_LINK)), join(VERSIONS_DIR, '000000000002'));
    assert.deepEqual(readdirSync(versionDir(dir, 2)).sort(), [
      'fleets.json',
      'fleets.json.sig',
      'fleets.pub.pem',
      'manifest.json',
      'registry.json',
    ]);
    // The names clients and operators read at the top are links through the one switch.
    assert.equal(readlinkSync(join(dir, 'fleets.json')), join(CURRENT_LINK, 'fleets.json'));
    assert.equal(JSON.parse(readFileSync(join(dir, 'fleets.json'), 'utf8')).meta.sequence, 2);
  });

  it('carries any further named files with the version, and serves them again after a restart', async () => {
    const dir = freshDir();
    const publisher = await FileRegistryPublisher.open(dir);
    await publisher.publish({
      ...artifacts(1),
      files: [
        {
          name: 'candidates.json',
          bytes: new TextEncoder().encode('{"candidates":[]}\n'),
          contentType: 'application/json',
        },
        {
          name: 'fleets-config.json.sig',
          bytes: new TextEncoder().encode('c2ln\n'),
          contentType: 'text/plain; charset=utf-8',
        },
      ],
    });
    const reopened = await FileRegistryPublisher.open(dir);
    const files = reopened.current()?.artifacts.files ?? [];
    assert.deepEqual(files.map((file) => file.name).sort(), [
      'candidates.json',
      'fleets-config.json.sig',
    ]);
    const candidates = files.find((file) => file.name === 'candidates.json');
    assert.equal(new TextDecoder().decode(candidates?.bytes), '{"candidates":[]}\n');
    assert.equal(candidates?.contentType, 'application/json');
  });

  it('refuses a version whose label is not its meta.sequence (X-Registry-Sequence would lie)', async () => {
    const publisher = await FileRegistryPublisher.open(freshDir(), { assertPublishable: () => {} });
    await assert.rejects(
      publisher.publish({ ...artifacts(3), sequence: 4 }),
      (error: unknown) =>
        error instanceof RegistryPublishError && /meta\.sequence 3/.test((error as Error).message),
    );
  });
});

describe('on start, only what verifies is served', () => {
  it('an interrupted publish (a staging folder, a link temporary) is removed; the last whole version is served', async () => {
    const dir = freshDir();
    await (await FileRegistryPublisher.open(dir)).publish(artifacts(1));
    const staging = join(dir, VERSIONS_DIR, '.staging-000000000002-999-abcd');
    mkdirSync(staging);
    writeFileSync(join(staging, 'fleets.json.sig'), 'half of a pair');
    writeFileSync(join(dir, 'current.tmp-999'), '');
    writeFileSync(join(dir, 'fleets.json.999.tmp'), 'old-style temporary');
    const reopened = await FileRegistryPublisher.open(dir);
    assertServedVerifies(reopened, 1);
    assert.deepEqual(
      readdirSync(join(dir, VERSIONS_DIR)).filter((name) => name.startsWith('.staging')),
      [],
    );
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.includes('.tmp')),
      [],
    );
  });

  it('a garbled fleets.json is never served: the newest version that verifies is, and the bad one is set aside', async () => {
    const dir = freshDir();
    const publisher = await FileRegistryPublisher.open(dir);
    await publisher.publish(artifacts(1));
    await publisher.publish(artifacts(2));
    writeFileSync(join(versionDir(dir, 2), 'fleets.json'), '{"meta": garbled');
    const reopened = await FileRegistryPublisher.open(dir);
    assertServedVerifies(reopened, 1);
    assert.equal(reopened.rejectedOnOpen[0]?.sequence, 2);
    assert.match(reopened.rejectedOnOpen[0]?.reason ?? '', /fleets\.json.*hash/);
    // The sequence of the refused version is never reused.
    assert.equal(await reopened.lastSequence(), 2);
  });

  it('a torn pair (signature of one version, document of another) with a consistent manifest is refused by its signature', async () => {
    const dir = freshDir();
    const publisher = await FileRegistryPublisher.open(dir);
    await publisher.publish(artifacts(1));
    const torn = artifacts(2);
    const other = artifacts(3);
    // Bypass the guard to write what a buggy publisher would.
    const { VersionedFolder } = await import('../../local/versioned-folder.ts');
    const { folder } = await VersionedFolder.open(dir);
    await folder.publish(
      2,
      new Map([
        ['fleets.json', torn.fleetsJson],
        [
          'fleets.json.sig',
          new TextEncoder().encode(Buffer.from(other.fleetsJsonSignature).toString('base64')),
        ],
        ['fleets.pub.pem', new TextEncoder().encode(key.publicKeyPem)],
        ['registry.json', torn.registryJson],
      ]),
    );
    const reopened = await FileRegistryPublisher.open(dir);
    assertServedVerifies(reopened, 1);
    assert.match(reopened.rejectedOnOpen[0]?.reason ?? '', /signature/);
  });

  it('nothing is served when no version verifies: expired, or signed by a key that was rotated', async () => {
    const expiredDir = freshDir();
    await (await FileRegistryPublisher.open(expiredDir)).publish(artifacts(1));
    const later = await FileRegistryPublisher.open(expiredDir, {
      nowMs: () => Date.now() + 3600_000,
    });
    assert.equal(later.current(), undefined);
    assert.match(later.rejectedOnOpen[0]?.reason ?? '', /expires/);

    const rotatedDir = freshDir();
    await (await FileRegistryPublisher.open(rotatedDir)).publish(artifacts(1));
    const rotated = await FileRegistryPublisher.open(rotatedDir, {
      expectedPublicKeyPem: keyPair().publicKeyPem,
    });
    assert.equal(rotated.current(), undefined);
    assert.match(rotated.rejectedOnOpen[0]?.reason ?? '', /rotated/);
  });

  it('kill -9 of a publishing process at random moments leaves a folder that serves a whole, verifying version', async () => {
    const dir = freshDir();
    const script = join(freshDir(), 'publish-forever.ts');
    writeFileSync(
      script,
      `import { generateKeyPairSync, sign } from 'node:crypto';
import { buildFleetsJson } from ${JSON.stringify(join(import.meta.dirname, '../../fleet/registry/index.ts'))};
import { FileRegistryPublisher } from ${JSON.stringify(join(import.meta.dirname, '../../local/file-publisher.ts'))};
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const publisher = await FileRegistryPublisher.open(process.argv[2]);
for (let sequence = (await publisher.lastSequence()) + 1; ; sequence++) {
  const { bytes } = buildFleetsJson({ fleet: 'f.test', hostname: 'h', sequence, nowMs: Date.now(), expiresAfterSeconds: 900,
    nodes: [{ id: 'store-01.eu.f.test', tcp: '/ip4/127.0.0.1/tcp/30303/p2p/16Uiu2HAmPLe7Mzm8TsYUubgCAW1aJoeFScxrLj8ppHFivPo97bUZ' }] });
  await publisher.publish({ sequence, fleetsJson: bytes, fleetsJsonSignature: new Uint8Array(sign('sha256', bytes, privateKey)),
    registryJson: new TextEncoder().encode('{}'), publicKeyPem, cacheMaxAgeSeconds: 10 });
  if (sequence === (await publisher.lastSequence()) && sequence % 5 === 0) process.send?.(sequence);
}
`,
    );
    // Prepare: a deterministic spread of kill moments after the first versions land.
    const delaysMs = [37, 91, 143, 211, 263, 317];
    for (const delayMs of delaysMs) {
      const child = fork(script, [dir], { stdio: 'ignore', execArgv: [] });
      await new Promise<void>((resolve) => child.once('message', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      // Assess after every kill: whatever was on disk, what is served verifies.
      const reopened = await FileRegistryPublisher.open(dir);
      const current = reopened.current();
      assert.ok(current);
      assertServedVerifies(reopened, current.artifacts.sequence);
      assert.equal(reopened.rejectedOnOpen.length, 0);
      assert.deepEqual(
        readdirSync(join(dir, VERSIONS_DIR)).filter((name) => name.startsWith('.staging')),
        [],
      );
    }
  }, 60_000);
});
