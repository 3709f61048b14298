// A CPU/memory pair Fargate would refuse at RegisterTaskDefinition (rolling a region back) is refused by `config check`, naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { FARGATE_MEMORY_MIB, fargatePairProblem } from '../../fleet/aws-config.ts';
import { FleetConfigError, parseFleetConfig } from '../../fleet/config.ts';
import { exampleConfigInput } from './synthesize-fleet.ts';

function issuesOf(change: (input: ReturnType<typeof exampleConfigInput>) => void): string[] {
  const input = exampleConfigInput();
  change(input);
  try {
    parseFleetConfig(input);
  } catch (error) {
    if (error instanceof FleetConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

describe('Fargate CPU and memory', () => {
  it('accepts every pair Fargate documents and refuses the neighbours', () => {
    for (const [cpu, sizes] of Object.entries(FARGATE_MEMORY_MIB)) {
      for (const memory of sizes) assert.equal(fargatePairProblem(Number(cpu), memory), undefined);
    }
    assert.match(fargatePairProblem(256, 4096) ?? '', /512, 1024, 2048 MiB/);
    assert.match(fargatePairProblem(4096, 4096) ?? '', /8192 to 30720 in steps of 1024/);
    assert.match(fargatePairProblem(1024, 2500) ?? '', /does not run 2500 MiB with 1024 CPU/);
  });

  it('refuses cpu 256 with 30 GB in the defaults, naming defaults.resources.memoryMiB', () => {
    const issues = issuesOf((input) => {
      input.defaults = {
        ...input.defaults,
        resources: { cpu: 256, memoryMiB: 30720, retention: 'size:50GB' },
      };
    });
    assert.equal(issues.length, 1, issues.join('\n'));
    assert.match(
      issues[0] as string,
      /^defaults\.resources\.memoryMiB: got 30720; Fargate does not run/,
    );
  });

  it("names the node's own field when a node overrides cpu or memory", () => {
    const memory = issuesOf((input) => {
      input.nodes[1] = { ...input.nodes[1]!, resources: { memoryMiB: 9216 } };
    });
    assert.match(memory.join('\n'), /^nodes\[1\]\.resources\.memoryMiB: got 9216;/m);
    const cpu = issuesOf((input) => {
      input.nodes[2] = { ...input.nodes[2]!, resources: { cpu: 4096 } };
    });
    assert.match(
      cpu.join('\n'),
      /^nodes\[2\]\.resources\.cpu: got 4096;.*2048 MiB with 4096 CPU units/m,
    );
  });

  it("checks the watchers' size too", () => {
    const issues = issuesOf((input) => {
      input.aws = { watcher: { cpu: 512, memoryMiB: 512 } };
    });
    assert.match(issues.join('\n'), /^aws\.watcher\.memoryMiB: got 512;/m);
  });

  it('accepts the example config and its default watcher (0.25 vCPU, 512 MiB, Spot)', () => {
    assert.deepEqual(
      issuesOf(() => {}),
      [],
    );
    const config = parseFleetConfig(exampleConfigInput());
    assert.deepEqual(config.aws.watcher, { capacity: 'spot', cpu: 256, memoryMiB: 512 });
    assert.equal(config.aws.loadBalancing, 'shared');
  });
});
