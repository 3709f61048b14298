// `storefleet registry verify` end to end: the real command against files on disk, exit codes included.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildFleetsJson } from '../../fleet/registry/fleets-json.ts';
import { encodeSignatureFile } from '../../fleet/registry/signer.ts';
import { generateRegistryKeyPem, registrySignerFromPem } from '../../local/file-signer.ts';
import { sixStoreNodes, statusShapedFleetsJson } from '../fleet/registry/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'storefleet');
const REFERENCE_FILE = join(ROOT, '..', 'shared', 'reference', 'fleets-2024-07-24.json');
const COMMAND_TIMEOUT_MS = 30_000;
const NOW_MS = Date.UTC(2026, 0, 21, 8, 0, 0);
const NOW = new Date(NOW_MS).toISOString();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function storefleet(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: ROOT, timeout: COMMAND_TIMEOUT_MS }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir = '';
const file = (name: string) => join(dir, name);
const verify = (path: string, ...flags: string[]) =>
  storefleet('registry', 'verify', path, ...flags);
const signatureFlags = () => ['--sig', file('fleets.json.sig'), '--pubkey', file('fleets.pub.pem')];

beforeAll(async () => {
  // Prepare: a signed registry as a publisher writes it, plus tampered and malformed variants.
  dir = await mkdtemp(join(tmpdir(), 'storefleet-verify-'));
  const signer = registrySignerFromPem(generateRegistryKeyPem(), 'test key');
  const { bytes } = buildFleetsJson({
    fleet: 'status.prod',
    hostname: 'storefleet.example.org',
    sequence: 77,
    nowMs: NOW_MS,
    expiresAfterSeconds: 900,
    nodes: sixStoreNodes(),
  });
  await writeFile(file('fleets.json'), bytes);
  await writeFile(file('fleets.json.sig'), encodeSignatureFile(await signer.sign(bytes)));
  await writeFile(file('fleets.pub.pem'), await signer.publicKeyPem());
  const tampered = new TextDecoder().decode(bytes).replace('"sequence": 77', '"sequence": 78');
  await writeFile(file('tampered.json'), tampered);
  await writeFile(file('legacy.json'), JSON.stringify(statusShapedFleetsJson(), null, 4));
  const malformed = statusShapedFleetsJson();
  malformed.fleets['status.prod'] = { 'tcp/p2p/waku': { 'node-01': 'node-01.example.org:30303' } };
  await writeFile(file('malformed.json'), JSON.stringify(malformed));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('accepts registries clients can use', () => {
  it('accepts a signed storefleet registry and prints fleets, kinds, node counts and sequence', async () => {
    const run = await verify(file('fleets.json'), ...signatureFlags(), '--now', NOW);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /fleets\.json: ok \(Status fleets\.json format; sequence 77; published 2026-01-21T08:00:00\.000Z by storefleet\.example\.org; expires 2026-01-21T08:15:00\.000Z\)/,
    );
    assert.match(
      run.stdout,
      /^ {2}status\.prod: tcp\/p2p\/waku 6, tcp\/p2p\/waku\/store 6, wss\/p2p\/waku\/store 6, enr\/p2p\/waku\/store 6$/m,
    );
    assert.match(
      run.stdout,
      /^signature: ok \(ECDSA P-256 over SHA-256, key sha256:[0-9a-f]{64}\)$/m,
    );
  });

  it('accepts a Status-shaped file with legacy kinds and no signature', async () => {
    const run = await verify(file('legacy.json'));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /no sequence; .* no expiry\)/);
    assert.match(run.stdout, /^ {2}eth\.prod: boot 2, mail 3, whisper 4, rendezvous 1$/m);
    assert.match(run.stdout, /^signature: not checked/m);
  });

  it('accepts the fleets.json Status published on 2024-07-24', {
    skip: !existsSync(REFERENCE_FILE),
  }, async () => {
    const run = await verify(REFERENCE_FILE);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /8 fleets, 123 addresses/);
    assert.match(
      run.stdout,
      /^ {2}status\.prod: tcp\/p2p\/waku 6, enr\/p2p\/waku 6, wss\/p2p\/waku 6$/m,
    );
  });
});

describe('exits 2 and says what is wrong', () => {
  it('rejects a malformed file, naming the JSON path', async () => {
    const run = await verify(file('malformed.json'));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^InvalidRegistryError: .*malformed\.json is invalid:$/m);
    assert.match(
      run.stderr,
      /fleets\["status\.prod"\]\["tcp\/p2p\/waku"\]\["node-01"\]: got "node-01\.example\.org:30303"; expected a multiaddr, enode:\/\/ URL or enr: record/,
    );
    assert.equal(run.stdout, '');
  });

  it('rejects a file whose signature does not verify', async () => {
    const run = await verify(file('tampered.json'), ...signatureFlags(), '--now', NOW);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^UnverifiedRegistryError: .*fleets\.json\.sig does not verify .*tampered\.json against key sha256:/,
    );
  });

  it('reports an expired registry as an error', async () => {
    const run = await verify(file('fleets.json'), '--now', '2026-01-21T08:15:00Z');
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^ExpiredRegistryError: meta\.expires 2026-01-21T08:15:00\.000Z is not after 2026-01-21T08:15:00\.000Z/,
    );
  });

  it('rejects a sequence below --min-sequence', async () => {
    const run = await verify(file('fleets.json'), '--now', NOW, '--min-sequence', '78');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^RolledBackRegistryError: meta\.sequence 77 is lower than 78/);
  });

  it('rejects --sig without --pubkey, a bad --now and a missing file', async () => {
    const [sigOnly, badNow, missing] = await Promise.all([
      verify(file('fleets.json'), '--sig', file('fleets.json.sig')),
      verify(file('fleets.json'), '--now', 'yesterday'),
      verify(file('absent.json')),
    ]);
    assert.equal(sigOnly.code, 2);
    assert.match(sigOnly.stderr, /--sig and --pubkey go together/);
    assert.equal(badNow.code, 2);
    assert.match(badNow.stderr, /--now "yesterday" is not an ISO time/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /absent\.json is invalid:\n {2}- cannot read the file: ENOENT/);
  });
});
