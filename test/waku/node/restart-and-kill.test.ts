// A node keeps its peer id and archive across restarts, loses no acknowledged message to SIGKILL, and its CLI stops cleanly.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'vitest';
import { CRASH_EXIT_CODE } from '../../../cli/commands/node.ts';
import { StoreQueryResponseSchema } from '../../../waku/rest-schemas.ts';
import { makeTempDir, startTestNode, withDeadline } from './fixtures.ts';

const CLI = join(import.meta.dirname, '..', '..', '..', 'cli', 'main.ts');
const READY_TIMEOUT_MS = 15_000;
const ADMIN_TOKEN = 'kill-test-token';

interface ReadyLine {
  event: 'ready';
  peerId: string;
  tcpAddress: string;
  websocketAddress: string;
  restUrl: string;
}

async function spawnNode(dataDir: string): Promise<{ child: ChildProcess; ready: ReadyLine }> {
  const child = spawn(
    process.execPath,
    [CLI, 'node', 'run', '--data-dir', dataDir, '--admin-token', ADMIN_TOKEN, '--seed', '3'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr?.resume();
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const firstLine = (async () => {
    for await (const line of lines) return line;
    throw new Error('node exited before printing its ready line');
  })();
  const line = await withDeadline(firstLine, READY_TIMEOUT_MS, 'the ready line');
  return { child, ready: JSON.parse(line) as ReadyLine };
}

async function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode };
  }
  const [code, signal] = (await withDeadline(once(child, 'exit'), READY_TIMEOUT_MS, 'exit')) as [
    number | null,
    string | null,
  ];
  return { code, signal };
}

async function storedHashes(restUrl: string, contentTopic: string): Promise<string[]> {
  const reply = await fetch(
    `${restUrl}/store/v3/messages?pageSize=100&contentTopics=${encodeURIComponent(contentTopic)}`,
  );
  return StoreQueryResponseSchema.parse(await reply.json()).messages.map(
    (entry) => entry.messageHash,
  );
}

describe('node restarts', () => {
  it('keeps its peer id and archive across an in-process restart, and applies count retention', async () => {
    const dir = makeTempDir('restart');
    try {
      const first = await startTestNode({ dataDir: dir.path, retention: { maxMessages: 5 } });
      const hashes: string[] = [];
      for (let index = 0; index < 8; index++) {
        hashes.push(
          await first.publish({
            contentTopic: '/restart/1/a/proto',
            payload: Uint8Array.of(index),
            timestampNs: 1_000n + BigInt(index),
          }),
        );
      }
      assert.equal(first.archivedCount(), 5, 'retention keeps the 5 newest');
      await first.stop();

      const second = await startTestNode({ dataDir: dir.path, retention: { maxMessages: 5 } });
      try {
        assert.equal(second.peerId, first.peerId);
        assert.match(second.peerId, /^16Uiu2/);
        assert.deepEqual(
          new Set(await storedHashes(second.restUrl, '/restart/1/a/proto')),
          new Set(hashes.slice(3)),
        );
      } finally {
        await second.stop();
      }
    } finally {
      dir.remove();
    }
  });

  it('drops messages older than maxAgeMs by the injected clock', async () => {
    let nowMs = 1_700_000_000_000;
    const node = await startTestNode({ retention: { maxAgeMs: 60_000 }, clock: () => nowMs });
    try {
      await node.publish({ contentTopic: '/restart/1/age/proto', payload: Uint8Array.of(1) });
      nowMs += 61_000;
      await node.publish({ contentTopic: '/restart/1/age/proto', payload: Uint8Array.of(2) });
      assert.equal(node.archivedCount(), 1);
    } finally {
      await node.stop();
      node.removeDataDir();
    }
  });

  it('loses no acknowledged message when the process is killed with SIGKILL', async () => {
    const dir = makeTempDir('kill');
    try {
      const { child, ready } = await spawnNode(dir.path);
      const contentTopic = '/kill/1/a/proto';
      for (let index = 0; index < 20; index++) {
        const reply = await fetch(`${ready.restUrl}/relay/v1/auto/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // A child node archives only messages within 20 s of its clock, as nwaku does.
          body: `{"payload": "${Buffer.from([index]).toString('base64')}", "contentTopic": "${contentTopic}", "timestamp": ${BigInt(Date.now()) * 1_000_000n + BigInt(index)}}`,
        });
        assert.equal(reply.status, 200);
        await reply.text();
      }
      const before = await storedHashes(ready.restUrl, contentTopic);
      assert.equal(before.length, 20);
      child.kill('SIGKILL');
      assert.equal((await exitOf(child)).signal, 'SIGKILL');

      const restarted = await spawnNode(dir.path);
      try {
        assert.equal(restarted.ready.peerId, ready.peerId);
        assert.deepEqual(await storedHashes(restarted.ready.restUrl, contentTopic), before);
      } finally {
        restarted.child.kill('SIGTERM');
        assert.deepEqual(await exitOf(restarted.child), { code: 0, signal: null });
      }
    } finally {
      dir.remove();
    }
  });

  it('exits with the crash code when the crash fault is injected', async () => {
    const dir = makeTempDir('crash');
    try {
      const { child, ready } = await spawnNode(dir.path);
      const reply = await fetch(`${ready.restUrl}/admin/v1/faults`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{"crash": true}',
      });
      assert.equal(reply.status, 202);
      assert.deepEqual(await exitOf(child), { code: CRASH_EXIT_CODE, signal: null });
    } finally {
      dir.remove();
    }
  });
});
