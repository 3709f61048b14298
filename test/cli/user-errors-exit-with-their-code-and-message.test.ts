// Errors a user can cause share one base class: the CLI exits with its exit code (2) because of the class, not the name.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { ChaosUsageError } from '../../cli/commands/chaos.ts';
import { NodeUsageError } from '../../cli/commands/node.ts';
import { ProbeUsageError } from '../../cli/commands/probe.ts';
import { StartUsageError } from '../../cli/commands/start.ts';
import { buildProgram, exitCodeFor } from '../../cli/main.ts';
import { FleetConfigError } from '../../fleet/config.ts';
import {
  EmptyRegistryError,
  ExpiredRegistryError,
  InvalidRegistryError,
  RolledBackRegistryError,
  SigningKeyConfigError,
  UnpublishableRegistryError,
  UnverifiedRegistryError,
} from '../../fleet/registry/errors.ts';
import { USER_ERROR_EXIT_CODE, UserError } from '../../fleet/user-error.ts';
import { StressValidationError } from '../../probes/stress/run-stress.ts';
import { WakuTimeoutError } from '../../waku/errors.ts';

describe('UserError', () => {
  it('carries its cause and exits 2 unless told otherwise', () => {
    const cause = new Error('ENOENT');
    const error = new UserError('config.json: cannot read the file', { cause });
    assert.equal(error.cause, cause);
    assert.equal(error.exitCode, USER_ERROR_EXIT_CODE);
    assert.equal(USER_ERROR_EXIT_CODE, 2);
    assert.equal(exitCodeFor(error), 2);
    assert.equal(exitCodeFor(new UserError('stop', { exitCode: 3 })), 3);
    assert.equal('cause' in new UserError('no cause'), false);
  });

  it('is the base of every error a user can cause', () => {
    const userErrors = [
      new FleetConfigError(['nodes[3].region: got "eu-west-9"']),
      new InvalidRegistryError(['meta: missing']),
      new EmptyRegistryError('status.prod'),
      new UnverifiedRegistryError('signature does not verify'),
      new ExpiredRegistryError('2026-01-01T00:00:00Z', Date.UTC(2026, 1, 1)),
      new RolledBackRegistryError(3, 5),
      new UnpublishableRegistryError('empty', 'no node is listable'),
      new SigningKeyConfigError('key.pem', 'not a P-256 key'),
      new StressValidationError('--rate: above the cap'),
      new ProbeUsageError('--fleet: required'),
      new ChaosUsageError('--node: required'),
      new StartUsageError('--config: required'),
      new NodeUsageError('--shards: got "x"'),
    ];
    for (const error of userErrors) {
      assert.ok(error instanceof UserError, error.name);
      assert.notEqual(error.name, 'UserError', 'each subclass names itself');
      assert.equal(exitCodeFor(error), 2, error.name);
    }
  });

  it('exits 1 for anything else, whatever its name says', () => {
    const lookalike = new Error('not a user mistake');
    lookalike.name = 'SomethingConfigError';
    assert.equal(exitCodeFor(lookalike), 1);
    assert.equal(exitCodeFor(new WakuTimeoutError('ping against /ip4/127.0.0.1', 1000)), 1);
    assert.equal(exitCodeFor('a string'), 1);
  });

  it('reaches the command line: a bad probe flag rejects with a UserError naming the flag', async () => {
    const program = buildProgram();
    program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    const failure = await program
      .parseAsync(['node', 'storefleet', 'probe', '--cluster-id', 'x', '--fleet', 'a.test'])
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(failure instanceof UserError, String(failure));
    assert.match(failure.message, /^--cluster-id: got "x"/);
    assert.equal(exitCodeFor(failure), 2);
  });
});
