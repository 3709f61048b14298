// The whole app at once: cdk-nag's AwsSolutions pack finds nothing unacknowledged, and the templates match the snapshot.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, it } from 'vitest';
import { synthesizeFleet } from './synthesize-fleet.ts';

const SNAPSHOT = join(import.meta.dirname, '__snapshots__', 'storefleet-example.json');
/** Asset hashes change with every handler edit; the snapshot is about the infrastructure. */
const ASSET_HASH = /[0-9a-f]{64}/g;
const MIN_REASON_LENGTH = 30;

// Prepare: the example fleet with every deploy option set, synthesised once.
const fleet = synthesizeFleet({
  alarmEmail: 'oncall@example.org',
  domain: 'nodes.example.org',
  certificateArns: JSON.stringify({
    'eu-central-1':
      'arn:aws:acm:eu-central-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
  }),
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

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning', () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(fleet.app);
    // Assess
    assert.deepEqual(
      report.violations.map(
        (violation) =>
          `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
      [],
    );
    assert.equal(report.success, true);
  });

  it('acknowledges each finding on a resource or its role, never on a stack or the app, with a reason', () => {
    // CDK acknowledges some of its own template checks (e.g. CloudFormation-Validate::W3010 for fixed AZs).
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
  });

  it('acknowledges nothing that is not actually found (no stale acknowledgements)', () => {
    // Prepare: a pack that ignores acknowledgements reports every finding with its construct path.
    class UnacknowledgingChecks extends AwsSolutionsChecks {}
    Object.defineProperty(UnacknowledgingChecks.prototype, 'isAcknowledged', {
      value: () => false,
    });
    // Act
    const findings = new UnacknowledgingChecks()
      .validateScope(fleet.app)
      .violations.flatMap((violation) =>
        violation.violatingResources.map((resource) => ({
          id: violation.ruleName,
          path: resource.constructPath,
        })),
      );
    // Assess
    const stale = acknowledgements(fleet.app)
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
    // Guards the guard: an unacknowledged public-by-default bucket must be reported.
    const app = new App();
    const stack = new Stack(app, 'Unsafe');
    new s3.Bucket(stack, 'Open');
    const report = new AwsSolutionsChecks().validateScope(app);
    assert.ok(report.violations.some((violation) => violation.ruleName === 'AwsSolutions-S10'));
  });
});

describe('template snapshot', () => {
  it('matches test/infra/__snapshots__/storefleet-example.json (UPDATE_SNAPSHOTS=1 rewrites it)', () => {
    const current: Record<string, unknown> = {};
    for (const stack of fleet.all) {
      current[stack.stackName] = JSON.parse(
        JSON.stringify(fleet.template(stack).toJSON()).replace(ASSET_HASH, '<asset-hash>'),
      );
    }
    if (process.env.UPDATE_SNAPSHOTS === '1') {
      mkdirSync(dirname(SNAPSHOT), { recursive: true });
      writeFileSync(SNAPSHOT, `${JSON.stringify(current, null, 2)}\n`);
    }
    assert.ok(
      existsSync(SNAPSHOT),
      `no snapshot yet: run UPDATE_SNAPSHOTS=1 node --test ${import.meta.filename}`,
    );
    assert.deepEqual(current, JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
  });
});
