// A stress test never touches a node the controller has drained, whatever the command line asked.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { FleetState } from '../../fleet/state.ts';
import { unlistedNodeGuard } from '../../probes/stress/stress-guard.ts';

function stateWith(statuses: Record<string, string>): Pick<FleetState, 'nodes'> {
  return {
    nodes: Object.fromEntries(
      Object.entries(statuses).map(([id, status]) => [
        id,
        { status } as FleetState['nodes'][string],
      ]),
    ),
  };
}

describe('the stress guard', () => {
  it('refuses drained, replacing, probation and escalated nodes and allows listed ones', () => {
    const guard = unlistedNodeGuard(
      stateWith({
        a: 'active',
        s: 'suspect',
        d: 'drained',
        r: 'replacing',
        p: 'probation',
        e: 'escalated',
      }),
    );
    assert.deepEqual(
      ['a', 's', 'd', 'r', 'p', 'e'].map((id) => guard(id)),
      [false, false, true, true, true, true],
    );
  });

  it('allows nodes the state does not know, and everything without a state', () => {
    assert.equal(unlistedNodeGuard(stateWith({ d: 'drained' }))('elsewhere'), false);
    assert.equal(unlistedNodeGuard(undefined)('d'), false);
  });
});
