// cfn-lint, CloudFormation's own linter, finds no error in any synthesised template: the example config, a 3-region config with every option, and 30 nodes per region.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { EVERY_DEPLOY_OPTION } from './fixtures/every-deploy-option.ts';
import {
  configWithNodesPerRegion,
  type SynthesizedFleet,
  synthesizeFleet,
} from './synthesize-fleet.ts';

const LINT_TIMEOUT_MS = 600_000;
/** `.ci/system-packages` installs exactly this version. */
const CFN_LINT = 'cfn-lint';

/** Where cfn-lint is missing, the suite must say so rather than skip: `.ci/run` installs it. */
function cfnLintVersion(): string {
  const found = spawnSync(CFN_LINT, ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(
      `${CFN_LINT} is not on PATH (${found.error?.message ?? found.stderr}); run .ci/system-packages to install it`,
    );
  }
  return found.stdout.trim();
}

/** Writes every template of the fleet into a folder and lints them in one cfn-lint run. */
function lintErrors(fleet: SynthesizedFleet, folder: string): string[] {
  const files = fleet.everyTemplate().map(({ stack, template }, index) => {
    const file = join(folder, `${index}-${stack.node.id.replace(/[^A-Za-z0-9-]/g, '')}.json`);
    writeFileSync(file, JSON.stringify(template.toJSON()));
    return file;
  });
  const run = spawnSync(CFN_LINT, ['--format', 'parseable', '--', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  // Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; anything else is a crash.
  assert.ok(
    run.status !== null && (run.status & ~(2 | 4 | 8)) === 0,
    `cfn-lint failed to run (${run.status}): ${run.stderr}`,
  );
  return run.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
}

describe(`cfn-lint (${cfnLintVersion()})`, { timeout: LINT_TIMEOUT_MS }, () => {
  const folder = mkdtempSync(join(tmpdir(), 'storefleet-cfn-lint-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('finds no error in the example config', () => {
    const dir = mkdtempSync(join(folder, 'example-'));
    assert.deepEqual(lintErrors(synthesizeFleet(), dir), []);
  });

  it('finds no error in a 3-region config with every deploy option and a balancer per node', () => {
    const dir = mkdtempSync(join(folder, 'options-'));
    const config = configWithNodesPerRegion(3, {
      aws: { loadBalancing: 'perNode', watcher: { capacity: 'onDemand' } },
      registry: { signingKey: { kind: 'kms', keyAlias: 'alias/existing/registry' } },
    });
    const fleet = synthesizeFleet(EVERY_DEPLOY_OPTION, config);
    assert.equal(fleet.all.length, 4, 'three regions and the replica');
    assert.deepEqual(lintErrors(fleet, dir), []);
  });

  it('finds no error with 30 nodes in each region', () => {
    const dir = mkdtempSync(join(folder, 'thirty-'));
    assert.deepEqual(lintErrors(synthesizeFleet({}, configWithNodesPerRegion(30)), dir), []);
  });

  it('does report errors, so a clean result means something', () => {
    const file = join(folder, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify({
        Resources: { Bucket: { Type: 'AWS::S3::Bucket', Properties: { Nope: 1 } } },
      }),
    );
    const output = spawnSync(CFN_LINT, ['--format', 'parseable', file], { encoding: 'utf8' });
    assert.match(output.stdout, /:E3002:/);
  });
});
