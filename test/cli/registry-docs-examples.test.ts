// The verification examples in docs/registry.md work as written against a registry we publish.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildFleetsJson } from '../../fleet/registry/fleets-json.ts';
import { encodeSignatureFile } from '../../fleet/registry/signer.ts';
import { generateRegistryKeyPem, registrySignerFromPem } from '../../local/file-signer.ts';
import { sixStoreNodes } from '../fleet/registry/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'registry.md'), 'utf8');
const NODE = process.execPath;
const RUN_TIMEOUT_MS = 30_000;

function codeBlockAfter(heading: string, language: string): string {
  const start = DOC.indexOf(heading);
  assert.notEqual(start, -1, `docs/registry.md has no "${heading}"`);
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(DOC.slice(start));
  assert.ok(match?.[1], `no ${language} block after "${heading}"`);
  return match[1];
}

function hasCommand(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], cwd: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { cwd, timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
        stdout,
        stderr,
      });
    });
  });
}

let dir = '';
let tamperedDir = '';

beforeAll(async () => {
  // Prepare: a signed registry (fresh by the real clock, which the example reads), and a copy
  // whose fleets.json lost a node after signing.
  dir = await mkdtemp(join(tmpdir(), 'storefleet-docs-'));
  tamperedDir = join(dir, 'tampered');
  const signer = registrySignerFromPem(generateRegistryKeyPem(), 'test key');
  const nodes = sixStoreNodes();
  const { bytes } = buildFleetsJson({
    fleet: 'status.prod',
    hostname: 'h',
    sequence: 3,
    nowMs: Date.now(),
    expiresAfterSeconds: 900,
    nodes,
  });
  const signatureFile = encodeSignatureFile(await signer.sign(bytes));
  const publicKeyPem = await signer.publicKeyPem();
  const tampered = JSON.parse(new TextDecoder().decode(bytes));
  delete tampered.fleets['status.prod']['tcp/p2p/waku/store'][nodes[0]?.id ?? ''];
  for (const [folder, fleetsJson] of [
    [dir, bytes],
    [tamperedDir, `${JSON.stringify(tampered, null, 2)}\n`],
  ] as const) {
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'fleets.json'), fleetsJson);
    await writeFile(join(folder, 'fleets.json.sig'), signatureFile);
    await writeFile(join(folder, 'fleets.pub.pem'), publicKeyPem);
    await writeFile(join(folder, 'verify.mjs'), codeBlockAfter('### Verify in Node', 'js'));
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the Node example', () => {
  it('accepts a registry we signed and prints its store nodes', async () => {
    const result = await run(NODE, ['verify.mjs'], dir);
    assert.equal(result.code, 0, result.stderr);
    for (const node of sixStoreNodes()) assert.ok(result.stdout.includes(node.id), node.id);
  });

  it('throws on a file altered after signing', async () => {
    const result = await run(NODE, ['verify.mjs'], tamperedDir);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /fleets\.json: bad signature/);
  });
});

describe('the openssl command', {
  // bash, openssl and base64 are on every machine of this kind; skip only where they are not.
  skip: !hasCommand('bash', ['-c', 'openssl version && base64 --version']),
}, () => {
  it('prints Verified OK for a registry we signed and fails for an altered one', async () => {
    const command = codeBlockAfter('### Verify with openssl', 'sh').trim();
    const [good, bad] = await Promise.all([
      run('bash', ['-c', command], dir),
      run('bash', ['-c', command], tamperedDir),
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /Verified OK/);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /Verification failure/);
  });
});
