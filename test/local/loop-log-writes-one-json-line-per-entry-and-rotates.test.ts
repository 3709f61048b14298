// The local loop log: each entry one JSON line with its time and level, moved aside once the file grows past its cap.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { JsonLinesLog } from '../../local/loop-log.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'storefleet-loop-log-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the loop log', () => {
  it('writes each entry as one JSON line carrying time, level, message and attributes', () => {
    const path = join(dir, 'loop.jsonl');
    const log = new JsonLinesLog(path, () => 1234);
    log.info('vantage round', { vantageId: 'vp-eu', round: 7, nodes: { a: { ok: true } } });
    log.warn('publication refused', { error: 'disk full' });
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(lines, [
      {
        atMs: 1234,
        level: 'info',
        message: 'vantage round',
        vantageId: 'vp-eu',
        round: 7,
        nodes: { a: { ok: true } },
      },
      { atMs: 1234, level: 'warn', message: 'publication refused', error: 'disk full' },
    ]);
  });

  it('moves the file aside once it passes its cap, keeping one older file', () => {
    const path = join(dir, 'loop.jsonl');
    const log = new JsonLinesLog(path, () => 1, 2000);
    for (let i = 0; i < 250; i++) log.info('controller round', { round: i });
    assert.ok(existsSync(`${path}.1`));
    const older = readFileSync(`${path}.1`, 'utf8').trim().split('\n');
    const current = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(JSON.parse(current.at(-1) as string).round, 249);
    assert.ok(older.length >= 100);
  });
});
