// `storefleet probe --fleets` on a fleets.json shaped like status.prod's (boot nodes under tcp/p2p/waku beside store nodes) reports boot nodes as not store nodes, never as failures.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { probeFailure } from '../../fleet/failover/failing-round.ts';
import { type ProbeRound, ProbeRoundSchema } from '../../fleet/observations.ts';
import { type StoreNodeHandle, startStoreNode } from '../../waku/node/store-node.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLUSTER_ID = 16;
/** Status's static shards of cluster 16. */
const STATUS_SHARDS = [1, 32, 64, 128, 256];
/** The six names status.prod listed under tcp/p2p/waku in its 2024-07-24 fleets.json. */
const STATUS_PROD_NAMES = [
  'boot-01.do-ams3.status.prod',
  'store-01.do-ams3.status.prod',
  'store-02.do-ams3.status.prod',
  'boot-01.ac-cn-hongkong-c.status.prod',
  'store-01.ac-cn-hongkong-c.status.prod',
  'store-02.ac-cn-hongkong-c.status.prod',
];
const CLI_TIMEOUT_MS = 60_000;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`storefleet ${args.join(' ')} did not finish in ${CLI_TIMEOUT_MS} ms`));
    }, CLI_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('probing a status.prod-shaped fleets.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-status-prod-'));
  const fleetsFile = join(dir, 'fleets.json');
  const nodes = new Map<string, StoreNodeHandle>();

  beforeAll(async () => {
    for (const [index, name] of STATUS_PROD_NAMES.entries()) {
      nodes.set(
        name,
        await startStoreNode({
          dataDir: join(dir, String(index)),
          clusterId: CLUSTER_ID,
          shards: STATUS_SHARDS,
          // Boot nodes relay and answer ping and metadata, but run no store.
          store: !name.startsWith('boot-'),
          log: () => {},
        }),
      );
    }
    const kind = (address: (node: StoreNodeHandle) => string | undefined) =>
      Object.fromEntries(STATUS_PROD_NAMES.map((name) => [name, address(nodes.get(name)!) ?? '']));
    // Status's shape: one fleet among others, no per-role split, meta as Consul writes it.
    const document = {
      meta: {
        hostname: 'node-01.do-ams3.sites.misc',
        timestamp: '2024-07-24T00:00:23.666061',
        warning: 'Auto generated from Consul. Should only be used at build time.',
      },
      fleets: {
        'status.prod': {
          'tcp/p2p/waku': kind((node) => node.tcpAddress),
          'enr/p2p/waku': kind((node) => node.enr),
          'wss/p2p/waku': kind((node) => node.websocketAddress),
        },
        'status.staging': { 'tcp/p2p/waku': {} },
      },
    };
    writeFileSync(fleetsFile, JSON.stringify(document, null, 2));
  });

  afterAll(async () => {
    await Promise.all([...nodes.values()].map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the boot nodes as not store nodes and the store nodes as answering', async () => {
    // Act
    const json = await runCli([
      'probe',
      '--fleets',
      fleetsFile,
      '--fleet',
      'status.prod',
      '--json',
    ]);
    const table = await runCli(['probe', '--fleets', fleetsFile, '--fleet', 'status.prod']);

    // Assess
    assert.equal(json.code, 0, json.stderr);
    const round: ProbeRound = ProbeRoundSchema.parse(JSON.parse(json.stdout));
    const stores = round.results.filter((result) => result.kind === 'store');
    assert.equal(stores.length, 6, 'every tcp/p2p/waku entry is probed');
    for (const result of stores) {
      if (result.nodeId.startsWith('boot-')) {
        assert.equal(result.storeNode, false, result.nodeId);
        assert.equal(result.ok, true, `${result.nodeId}: ${result.errorMessage}`);
      } else {
        assert.equal(result.ok, true, `${result.nodeId}: ${result.errorMessage}`);
        assert.equal(result.storeNode, undefined, result.nodeId);
      }
    }
    for (const result of round.results) {
      assert.equal(probeFailure(result, CLUSTER_ID), undefined, `${result.nodeId} ${result.kind}`);
    }

    assert.equal(table.code, 0, table.stderr);
    for (const name of STATUS_PROD_NAMES) {
      const row = table.stdout.split('\n').find((line) => line.startsWith(name)) ?? '';
      if (name.startsWith('boot-')) assert.match(row, /not a store node/, row);
      else assert.doesNotMatch(row, /not a store node|FAIL/, row);
    }
  });
});
