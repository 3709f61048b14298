// `config check` refuses a round deadline past the probe interval, names an unknown key alone, and never echoes a whole large value.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import {
  FleetConfigError,
  MAX_SHOWN_VALUE_CHARS,
  parseFleetConfig,
} from '../../../fleet/config.ts';

const EXAMPLE_PATH = join(import.meta.dirname, '..', '..', '..', 'config', 'fleet.example.json');
const example = () => JSON.parse(readFileSync(EXAMPLE_PATH, 'utf8'));

function issuesOf(input: unknown): readonly string[] {
  try {
    parseFleetConfig(input);
  } catch (error) {
    assert.ok(error instanceof FleetConfigError);
    return error.issues;
  }
  assert.fail('the config was accepted');
}

describe('config check names only what is wrong', () => {
  it('non-compliant: a round deadline longer than the probe interval', () => {
    const input = example();
    input.probe.intervalSeconds = 3;
    input.probe.roundDeadlineMs = 4000;
    const issues = issuesOf(input);
    assert.ok(
      issues.some(
        (issue) =>
          issue.startsWith(
            'probe.roundDeadlineMs: got 4000; longer than probe.intervalSeconds (3 s)',
          ) && issue.includes('expected at most 3000'),
      ),
      issues.join('\n'),
    );
  });

  it('compliant: a deadline equal to the interval', () => {
    const input = example();
    input.probe.intervalSeconds = 4;
    input.probe.roundDeadlineMs = 4000;
    parseFleetConfig(input);
  });

  it('an unknown key is named with its path, without its parent object', () => {
    const input = example();
    input.failover.maxDrainPerRound = 2;
    input.probe.intervalSecond = 5;
    const issues = issuesOf(input);
    assert.deepEqual([...issues].sort(), [
      'failover.maxDrainPerRound: got an unknown key; not a setting of failover; check its spelling or remove it',
      'probe.intervalSecond: got an unknown key; not a setting of probe; check its spelling or remove it',
    ]);
    assert.ok(!issues.some((issue) => issue.includes('minHealthy')), 'the parent is not dumped');
  });

  it('a huge bad value is shown by a short prefix and its length', () => {
    const input = example();
    input.registry.hostname = 7;
    input.nodes[0].id = 'X'.repeat(100_000);
    const issues = issuesOf(input);
    for (const issue of issues)
      assert.ok(issue.length < MAX_SHOWN_VALUE_CHARS + 300, issue.slice(0, 200));
    assert.ok(
      issues.some((issue) => /^nodes\[0\]\.id: got "X+\.\.\. \(100002 characters\)/.test(issue)),
    );
  });
});
