// Probe targets come from a real fleets.json exactly as Status desktop picks store nodes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { parseFleetsJson } from '../../fleet/registry/index.ts';
import { NoProbeTargetsError, storeTargetsFromFleetsJson } from '../../probes/targets.ts';

// The real registry files sit beside the repository (../shared/reference); they are read, never copied in.
const REFERENCE_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'reference');
const reference = (name: string) =>
  parseFleetsJson(JSON.parse(readFileSync(join(REFERENCE_DIR, name), 'utf8')), name);
const referenceSkip = existsSync(REFERENCE_DIR)
  ? false
  : `the public reference files are not beside the repository (${REFERENCE_DIR})`;

describe.skipIf(referenceSkip !== false)('probe targets from fleets.json', () => {
  it('takes the store nodes from tcp/p2p/waku/store where the fleet splits roles', () => {
    const targets = storeTargetsFromFleetsJson(reference('fleets-2024-07-24.json'), 'shards.test');
    assert.deepEqual(
      targets.map((t) => t.nodeId),
      ['store-01.gc-us-central1-a.shards.test', 'store-02.gc-us-central1-a.shards.test'],
    );
    assert.ok(targets.every((t) => /\/tcp\/30303\/p2p\/16Uiu2/.test(t.multiaddr)));
    assert.ok(targets.every((t) => t.restUrl === undefined));
  });

  it('falls back to tcp/p2p/waku on fleets without the per-role split, as desktop does', () => {
    const targets = storeTargetsFromFleetsJson(reference('fleets-2024-07-24.json'), 'status.prod');
    assert.equal(targets.length, 6);
    assert.ok(targets.every((t) => /^\/dns4\/.+\/tcp\/30303\/p2p\/16Uiu2/.test(t.multiaddr)));
  });

  it('names the fleets it knows when asked about another', () => {
    assert.throws(
      () => storeTargetsFromFleetsJson(reference('fleets-2024-07-24.json'), 'status.nope'),
      (error: Error) => error instanceof NoProbeTargetsError && /status\.prod/.test(error.message),
    );
  });
});
