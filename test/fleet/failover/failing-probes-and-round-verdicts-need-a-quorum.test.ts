import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { probeFailure, roundVerdict } from '../../../fleet/failover/failing-round.ts';
import type { ProbeResult } from '../../../fleet/observations.ts';

const base = { nodeId: 'n', vantageId: 'vp-a', startedAtMs: 0 };
const probe = (over: Partial<ProbeResult>): ProbeResult => ({
  ...base,
  kind: 'ping',
  ok: true,
  ...over,
});

describe('policy: what counts as a failing probe', () => {
  it('compliant: passing ping, store, metadata on our cluster, READY or starting health', () => {
    for (const result of [
      probe({ latencyMs: 3 }),
      probe({ kind: 'store', statusCode: 200 }),
      probe({ kind: 'metadata', clusterId: 16 }),
      probe({ kind: 'health', nodeHealth: 'READY' }),
      probe({ kind: 'health', nodeHealth: 'SYNCHRONIZING' }),
    ]) {
      assert.equal(probeFailure(result, 16), undefined, JSON.stringify(result));
    }
  });

  it('compliant: a 429 is a live node shedding load, not a failure', () => {
    assert.equal(
      probeFailure(probe({ kind: 'store', ok: false, errorClass: 'rate_limited' }), 16),
      undefined,
    );
  });

  it('non-compliant: failed probes of any kind, with their error class', () => {
    assert.equal(probeFailure(probe({ ok: false, errorClass: 'timeout' }), 16), 'ping timeout');
    assert.equal(
      probeFailure(probe({ kind: 'store', ok: false, errorClass: 'store_error' }), 16),
      'store store_error',
    );
    assert.equal(probeFailure(probe({ kind: 'health', ok: false }), 16), 'health failed');
  });

  it('non-compliant: wrong cluster and not-ready health even when the probe itself "worked"', () => {
    assert.match(
      probeFailure(probe({ kind: 'metadata', clusterId: 1 }), 16) ?? '',
      /wrong_cluster/,
    );
    assert.equal(
      probeFailure(probe({ kind: 'health', nodeHealth: 'NOT_READY' }), 16),
      'health NOT_READY',
    );
    assert.equal(
      probeFailure(probe({ kind: 'health', nodeHealth: 'Shutting Down' }), 16),
      'health SHUTTING_DOWN',
    );
  });
});

describe('policy: a round verdict needs a quorum either way', () => {
  it('failing with quorum witnesses, good with quorum passing vantage points', () => {
    assert.equal(roundVerdict({ failing: 2, passing: 1, runtimeAllowsGood: true }, 2), 'failing');
    assert.equal(roundVerdict({ failing: 0, passing: 2, runtimeAllowsGood: true }, 2), 'good');
  });

  it('inconclusive on thin or split evidence, or while the runtime reports the task not running', () => {
    assert.equal(
      roundVerdict({ failing: 1, passing: 1, runtimeAllowsGood: true }, 2),
      'inconclusive',
    );
    assert.equal(
      roundVerdict({ failing: 0, passing: 1, runtimeAllowsGood: true }, 2),
      'inconclusive',
    );
    assert.equal(
      roundVerdict({ failing: 0, passing: 3, runtimeAllowsGood: false }, 2),
      'inconclusive',
    );
  });
});
