// The -c values `cdk deploy` is given are checked before anything is built, and each refusal says what to pass instead.
import assert from 'node:assert/strict';
import { App } from 'aws-cdk-lib';
import { describe, it } from 'vitest';
import { FleetConfigError } from '../../fleet/config.ts';
import {
  DEFAULT_CONFIG_PATH,
  DeployContextError,
  loadFleetConfigFile,
  readDeployContext,
} from '../../infra/deploy-context.ts';

const contextOf = (context: Record<string, unknown>) =>
  readDeployContext(new App({ context }).node);

describe('deploy context', () => {
  it('defaults to the example config and an account-agnostic, email-less deployment', () => {
    const context = contextOf({});
    assert.equal(context.configPath, DEFAULT_CONFIG_PATH);
    assert.equal(context.account, undefined);
    assert.equal(context.alarmEmail, undefined);
    assert.deepEqual(context.certificateArns, {});
  });

  it('accepts certificate ARNs per region as JSON text, as the command line passes them', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    assert.deepEqual(
      contextOf({ certificateArns: JSON.stringify({ 'us-east-1': arn }) }).certificateArns,
      {
        'us-east-1': arn,
      },
    );
  });

  it('refuses an account that is not 12 digits', () => {
    assert.throws(
      () => contextOf({ account: '12345' }),
      (error: unknown) =>
        error instanceof DeployContextError &&
        /context "account": got "12345"; expected a 12-digit/.test(error.message),
    );
  });

  it('refuses a certificate from another region than the one it is given for', () => {
    assert.throws(
      () =>
        contextOf({
          certificateArns: { 'eu-central-1': 'arn:aws:acm:us-east-1:123456789012:certificate/abc' },
        }),
      (error: unknown) =>
        error instanceof DeployContextError &&
        error.message.includes('certificateArns.eu-central-1'),
    );
  });

  it('reads extra nwaku flags as JSON text and refuses values that are not strings', () => {
    const flags = { WAKUNODE2_DNS_DISCOVERY_URL: 'enrtree://KEY@boot.example.org' };
    assert.deepEqual(
      contextOf({ nwakuEnvironment: JSON.stringify(flags) }).nwakuEnvironment,
      flags,
    );
    assert.throws(
      () => contextOf({ nwakuEnvironment: '{"WAKUNODE2_MAX_CONNECTIONS": 50}' }),
      (error: unknown) =>
        error instanceof DeployContextError && error.message.includes('object of strings'),
    );
  });

  it('refuses an unknown control region', () => {
    assert.throws(() => contextOf({ controlRegion: 'eu-west-9' }), DeployContextError);
  });

  it('names the config file it cannot read', () => {
    assert.throws(
      () => loadFleetConfigFile('config/does-not-exist.json'),
      (error: unknown) =>
        error instanceof FleetConfigError &&
        error.message.startsWith('config/does-not-exist.json is invalid'),
    );
  });

  it('takes a registry domain only with its us-east-1 certificate, and a hosted zone id', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    const context = contextOf({
      registryDomain: 'fleets.example.org',
      registryCertificateArn: arn,
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      registryReplicaRegion: 'eu-west-1',
    });
    assert.equal(context.registryDomain, 'fleets.example.org');
    assert.equal(context.registryCertificateArn, arn);
    assert.equal(context.hostedZoneId, 'Z0123456789ABCDEFGHIJ');
    assert.equal(context.registryReplicaRegion, 'eu-west-1');
    assert.throws(
      () => contextOf({ registryDomain: 'fleets.example.org' }),
      (error: unknown) =>
        error instanceof DeployContextError && /registryCertificateArn/.test(error.message),
    );
    assert.throws(
      () =>
        contextOf({
          registryDomain: 'fleets.example.org',
          registryCertificateArn: 'arn:aws:acm:eu-central-1:123456789012:certificate/abc',
        }),
      (error: unknown) => error instanceof DeployContextError && /us-east-1/.test(error.message),
    );
    assert.throws(() => contextOf({ hostedZoneId: 'example.org' }), DeployContextError);
  });
});
