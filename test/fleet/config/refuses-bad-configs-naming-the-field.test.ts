// The fleet config refuses what would break a deployment, and every message names the field, the value and what was expected.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import {
  completenessVantageId,
  FleetConfigError,
  type FleetConfigInput,
  parseFleetConfig,
  resolveNodes,
} from '../../../fleet/config.ts';

const EXAMPLE_PATH = join(import.meta.dirname, '..', '..', '..', 'config', 'fleet.example.json');

function example(): FleetConfigInput {
  return JSON.parse(readFileSync(EXAMPLE_PATH, 'utf8')) as FleetConfigInput;
}

function issuesOf(input: unknown): readonly string[] {
  try {
    parseFleetConfig(input, 'test.json');
  } catch (error) {
    assert.ok(error instanceof FleetConfigError, `expected FleetConfigError, got ${String(error)}`);
    assert.match(error.message, /^test\.json is invalid:/);
    return error.issues;
  }
  assert.fail('the config was accepted');
}

describe('the example config', () => {
  it('is valid and resolves six nodes, two per location, with defaults applied', () => {
    const config = parseFleetConfig(example());
    const nodes = resolveNodes(config);

    assert.equal(nodes.length, 6);
    const perLocation = Map.groupBy(nodes, (node) => node.location);
    assert.deepEqual(
      [...perLocation.values()].map((group) => group.length),
      [2, 2, 2],
    );
    assert.deepEqual(nodes[0]?.ports, { tcp: 30303, websocket: 8000, rest: 8645 });
    assert.equal(nodes[0]?.role, 'store');
    assert.equal(nodes[0]?.region, 'eu-central-1');
    assert.equal(completenessVantageId(config), 'vp-eu');
  });
});

describe('a config with a mistake', () => {
  it('names both places of a duplicate node id', () => {
    const input = example();
    input.nodes[3] = { ...input.nodes[3], id: input.nodes[2]!.id } as (typeof input.nodes)[number];

    assert.deepEqual(
      issuesOf(input).filter((issue) => issue.startsWith('nodes[3].id')),
      [
        'nodes[3].id: got "store-01.us-east.storefleet.test"; duplicate node id (also nodes[2].id); expected every node id to be unique',
      ],
    );
  });

  it('refuses a port out of range, with its path and value', () => {
    const input = example();
    input.nodes[1] = { ...input.nodes[1]!, ports: { tcp: 70000 } };

    assert.deepEqual(issuesOf(input), [
      'nodes[1].ports.tcp: got 70000; Too big: expected number to be <=65535',
    ]);
  });

  it('refuses two listeners of one node on the same port', () => {
    const input = example();
    input.nodes[0] = { ...input.nodes[0]!, ports: { websocket: 30303 } };

    assert.deepEqual(issuesOf(input), [
      'nodes[0].ports.websocket: got 30303; port is also used for tcp; expected distinct ports per node',
    ]);
  });

  it('refuses an unknown vantage point and lists the declared ones', () => {
    const input = example();
    input.completeness = { ...input.completeness, vantageId: 'vp-mars' };

    assert.deepEqual(issuesOf(input), [
      'completeness.vantageId: got "vp-mars"; unknown vantage point; expected one of: vp-eu, vp-us, vp-ap',
    ]);
  });

  it('refuses min-healthy larger than the fleet', () => {
    const input = example();
    input.failover = { ...input.failover, minHealthy: 7 };

    assert.deepEqual(issuesOf(input), [
      'failover.minHealthy: got 7; larger than the fleet (6 nodes); expected at most 6',
    ]);
  });

  it('reports a defaulted value it judged, not "nothing"', () => {
    const input = example();
    input.vantagePoints = input.vantagePoints.slice(0, 1);
    delete (input.failover as Record<string, unknown>).quorum;

    assert.deepEqual(issuesOf(input), [
      'failover.quorum: got 2; larger than the number of vantage points (1); expected at most 1',
    ]);
  });

  it('refuses a region that AWS does not have', () => {
    const input = example();
    input.locations['us-east'] = { region: 'eu-west-9' as 'eu-west-1' };

    assert.deepEqual(issuesOf(input), [
      'locations.us-east.region: got "eu-west-9"; is not an AWS region (expected e.g. eu-west-1)',
    ]);
  });

  it('refuses a node whose id does not match its location or fleet', () => {
    const input = example();
    input.nodes[0] = { id: 'store-01.us-east.other.fleet', location: 'eu-central' };

    assert.deepEqual(issuesOf(input), [
      'nodes[0].id: got "store-01.us-east.other.fleet"; expected the id to end in the fleet name ".storefleet.test"',
      'nodes[0].id: got "store-01.us-east.other.fleet"; expected the id\'s location part to equal nodes[0].location "eu-central"',
    ]);
  });

  it('refuses a probe timeout longer than the round deadline', () => {
    const input = example();
    input.probe = { ...input.probe, storeTimeoutMs: 9000 };

    assert.deepEqual(issuesOf(input), [
      'probe.storeTimeoutMs: got 9000; longer than probe.roundDeadlineMs (4000); expected at most 4000',
    ]);
  });

  it('names a missing required field and a field it does not know', () => {
    const input = example() as unknown as Record<string, unknown>;
    delete input.clusterId;
    input.shardz = [1];

    const issues = issuesOf(input);
    assert.ok(
      issues.includes('clusterId: got nothing; Invalid input: expected number, received undefined'),
      issues.join('\n'),
    );
    assert.ok(
      issues.some((issue) => issue.startsWith('shardz: got an unknown key')),
      issues.join('\n'),
    );
  });
});
