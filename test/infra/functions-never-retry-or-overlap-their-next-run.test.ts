// What stays on Lambda (publisher, completeness, stress, API): no retries by Lambda or EventBridge, events expire with their period, reserved concurrency caps each.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { RESERVED_CONCURRENCY } from '../../infra/ControlPlane.ts';
import { API_RESERVED_CONCURRENCY } from '../../infra/FleetApi.ts';
import { type CfnJson, resourcesOf, synthesizeFleet } from './synthesize-fleet.ts';

const fleet = synthesizeFleet();
const template = fleet.template(fleet.stacks.control);
const functions = resourcesOf(template, 'AWS::Lambda::Function').filter(({ id }) =>
  /^(Control|Api)/.test(id),
);
const byName = (pattern: RegExp) => {
  const found = functions.find(({ id }) => pattern.test(id));
  assert.ok(found, String(pattern));
  return found;
};

describe('the functions that stay on Lambda', () => {
  it('are the publisher, completeness, stress and API: Node 24 on arm64', () => {
    assert.deepEqual(functions.map(({ id }) => id.replace(/[0-9A-F]{8}$/, '')).sort(), [
      'ApiFunction',
      'ControlCompleteness',
      'ControlPublisher',
      'ControlStress',
    ]);
    for (const { Properties } of functions) {
      assert.equal(Properties.Runtime, 'nodejs24.x');
      assert.deepEqual(Properties.Architectures, ['arm64']);
    }
  });

  it('are never retried by Lambda, and drop an event older than their period', () => {
    const configs = resourcesOf(template, 'AWS::Lambda::EventInvokeConfig');
    assert.equal(configs.length, 3);
    for (const { Properties } of configs) {
      assert.equal(Properties.MaximumRetryAttempts, 0);
      assert.ok(
        Properties.MaximumEventAgeInSeconds <= 300,
        String(Properties.MaximumEventAgeInSeconds),
      );
    }
  });

  it('are never retried by their schedules either', () => {
    const rules = resourcesOf(template, 'AWS::Events::Rule');
    assert.ok(rules.length >= 2);
    for (const { Properties } of rules) {
      for (const target of Properties.Targets as CfnJson[]) {
        assert.equal(target.RetryPolicy.MaximumRetryAttempts, 0);
        assert.ok(target.RetryPolicy.MaximumEventAgeInSeconds >= 60);
      }
    }
  });

  it('run one at a time where a run must not overlap the next, and cap the API', () => {
    assert.equal(
      byName(/^ControlPublisher/).Properties.ReservedConcurrentExecutions,
      RESERVED_CONCURRENCY.publisher,
    );
    assert.equal(
      byName(/^ControlStress/).Properties.ReservedConcurrentExecutions,
      RESERVED_CONCURRENCY.stress,
    );
    assert.equal(
      byName(/^ControlCompleteness/).Properties.ReservedConcurrentExecutions,
      RESERVED_CONCURRENCY.completeness,
    );
    assert.equal(
      byName(/^ApiFunction/).Properties.ReservedConcurrentExecutions,
      API_RESERVED_CONCURRENCY,
    );
  });

  it('answers only SigV4-signed requests on the API function URL', () => {
    const [url] = resourcesOf(template, 'AWS::Lambda::Url');
    assert.equal(url?.Properties.AuthType, 'AWS_IAM');
  });
});
