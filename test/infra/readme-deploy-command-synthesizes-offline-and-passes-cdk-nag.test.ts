// The README's deploy command synthesises with a concrete account and no credentials (no lookups, no Docker), and cdk-nag finds nothing unacknowledged.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, it } from 'vitest';
import { EVERY_DEPLOY_OPTION } from './fixtures/every-deploy-option.ts';
import {
  configWithNodesPerRegion,
  ROOT,
  type SynthesizedFleet,
  synthesizeFleet,
  TEST_ACCOUNT,
} from './synthesize-fleet.ts';

const CLI_TIMEOUT_MS = 300_000;
const MIN_REASON_LENGTH = 30;

/** The `-c key=value` pairs of the README's `npx cdk deploy` line, with ACCOUNT filled in. */
function readmeDeployContext(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Deploy to AWS'));
  const line = section.split('\n').find((candidate) => candidate.startsWith('npx cdk deploy'));
  assert.ok(line, 'the README has an `npx cdk deploy` line under "Deploy to AWS"');
  const pairs = [...line.matchAll(/-c (\S+)/g)].map((match) =>
    (match[1] as string).replace('ACCOUNT', TEST_ACCOUNT),
  );
  assert.ok(pairs.includes(`account=${TEST_ACCOUNT}`), line);
  return pairs;
}

/** The environment of a machine with no AWS credentials at all. */
function withoutCredentials(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  }
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
}

describe("the README's deploy command, synthesised as `cdk synth` runs it", () => {
  const outdir = mkdtempSync(join(tmpdir(), 'storefleet-readme-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('succeeds offline with a concrete account: no lookup, no Docker, cdk-nag clean', {
    timeout: CLI_TIMEOUT_MS,
  }, () => {
    // Act: the CDK CLI itself, as a user would run it, against no credentials.
    const args = ['cdk', 'synth', '--all', '--quiet', '--no-notices', '-o', outdir];
    for (const pair of readmeDeployContext()) args.push('-c', pair);
    const run = spawnSync('npx', args, {
      cwd: ROOT,
      env: withoutCredentials(),
      encoding: 'utf8',
      timeout: CLI_TIMEOUT_MS,
    });
    // Assess
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, output.slice(-4000));
    assert.doesNotMatch(output, /Need to perform AWS calls|no credentials/);
    assert.doesNotMatch(output, /ERROR/);
    const templates = readdirSync(outdir).filter((name) => name.endsWith('.template.json'));
    assert.ok(templates.includes('Storefleet-storefleet-test.template.json'), templates.join(', '));
    // The watcher image is staged as a Docker asset for deploy to build; synth built nothing.
    const assets = JSON.parse(
      readFileSync(join(outdir, 'Storefleet-storefleet-test.assets.json'), 'utf8'),
    );
    const images = Object.values(assets.dockerImages ?? {}) as Array<{
      source: { directory: string; platform?: string };
    }>;
    assert.equal(images.length, 1);
    assert.equal(images[0]?.source.platform, 'linux/arm64');
    const staged = join(outdir, images[0]?.source.directory as string);
    assert.ok(existsSync(join(staged, 'Dockerfile')));
    for (const excluded of ['node_modules', '.git', 'cdk.out', '.storefleet']) {
      assert.ok(
        !existsSync(join(staged, excluded)),
        `${excluded} is kept out of the image context`,
      );
    }
    assert.equal(
      readFileSync(join(outdir, 'manifest.json'), 'utf8').includes('"lookupRole"'),
      true,
    );
    assert.deepEqual(JSON.parse(readFileSync(join(ROOT, 'cdk.context.json'), 'utf8')), {});
  });
});

function acknowledgements(
  root: IConstruct,
): Array<{ path: string; construct: IConstruct; id: string; reason: unknown }> {
  const found = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        found.push({ path: construct.node.path, construct, id, reason });
      }
    }
  }
  return found;
}

function violations(fleet: SynthesizedFleet): string[] {
  return new AwsSolutionsChecks()
    .validateScope(fleet.app)
    .violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
}

describe('cdk-nag AwsSolutions, with account 123456789012', () => {
  // Prepare: the example, and 3 regions with every option, per-node balancers and an existing key alias.
  const example = synthesizeFleet();
  const everything = synthesizeFleet(
    EVERY_DEPLOY_OPTION,
    configWithNodesPerRegion(2, {
      aws: { loadBalancing: 'perNode' },
      registry: { signingKey: { kind: 'kms', keyAlias: 'alias/existing/registry' } },
    }),
  );

  it('reports no unacknowledged error or warning for the example config', () => {
    assert.deepEqual(violations(example), []);
  });

  it('reports none with every deploy option either', () => {
    assert.deepEqual(violations(everything), []);
  });

  it('acknowledges each finding on a resource or its role, never on a stack or the app, with a reason', () => {
    for (const fleet of [example, everything]) {
      const found = acknowledgements(fleet.app).filter((a) => a.id.includes('AwsSolutions-'));
      assert.ok(found.length > 0);
      for (const acknowledgement of found) {
        assert.ok(
          !(acknowledgement.construct instanceof Stack),
          `${acknowledgement.id} on stack ${acknowledgement.path}`,
        );
        assert.ok(!(acknowledgement.construct instanceof App), `${acknowledgement.id} on the app`);
        assert.ok(
          typeof acknowledgement.reason === 'string' &&
            acknowledgement.reason.length >= MIN_REASON_LENGTH,
          `${acknowledgement.path} ${acknowledgement.id}: reason ${JSON.stringify(acknowledgement.reason)}`,
        );
      }
    }
  });

  it('acknowledges nothing that is not actually found (no stale acknowledgements)', () => {
    class UnacknowledgingChecks extends AwsSolutionsChecks {}
    Object.defineProperty(UnacknowledgingChecks.prototype, 'isAcknowledged', {
      value: () => false,
    });
    const findings = new UnacknowledgingChecks()
      .validateScope(example.app)
      .violations.flatMap((violation) =>
        violation.violatingResources.map((resource) => ({
          id: violation.ruleName,
          path: resource.constructPath,
        })),
      );
    const stale = acknowledgements(example.app)
      .filter((a) => a.id.includes('AwsSolutions-'))
      .filter(
        (a) =>
          !findings.some(
            (finding) =>
              a.id.endsWith(finding.id) &&
              (finding.path === a.path || finding.path?.startsWith(`${a.path}/`)),
          ),
      )
      .map((a) => `${a.path} ${a.id}`);
    assert.deepEqual(stale, []);
  });

  it('still catches what it is meant to catch', () => {
    const app = new App();
    const stack = new Stack(app, 'Unsafe');
    new s3.Bucket(stack, 'Open');
    const report = new AwsSolutionsChecks().validateScope(app);
    assert.ok(report.violations.some((violation) => violation.ruleName === 'AwsSolutions-S10'));
  });
});
