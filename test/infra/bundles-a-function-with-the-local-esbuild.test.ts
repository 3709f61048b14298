// A real bundle: esbuild (no Docker) turns a TypeScript handler into a minified ESM file with a source map that Node 24 can load.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, it } from 'vitest';
import { METRIC_NAMESPACE } from '../../fleet/metrics.ts';
import { defineStorefleet } from '../../infra/define-storefleet.ts';
import { loadFleetConfigFile, readDeployContext } from '../../infra/deploy-context.ts';
import {
  MissingHandlerError,
  MissingHandlersError,
  StorefleetFunction,
} from '../../infra/StorefleetFunction.ts';
import { cdkJsonContext, EXAMPLE_CONFIG, FIXTURE_HANDLER } from './synthesize-fleet.ts';

const BUNDLE_TIMEOUT_MS = 60_000;

describe('bundling', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'storefleet-bundle-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('emits index.mjs with the require shim and a source map, and the handler runs', {
    timeout: BUNDLE_TIMEOUT_MS,
  }, async () => {
    // Prepare
    const app = new App({ outdir, context: cdkJsonContext() });
    const stack = new Stack(app, 'Bundle', { env: { region: 'eu-central-1' } });
    new StorefleetFunction(stack, 'Fixture', {
      entry: FIXTURE_HANDLER,
      description: 'bundling test',
    });
    // Act
    app.synth();
    // Assess
    const code = readdirSync(outdir).filter(
      (name) => name.startsWith('asset.') && existsSync(join(outdir, name, 'index.mjs')),
    );
    assert.equal(code.length, 1);
    const directory = join(outdir, code[0]!);
    const bundle = readFileSync(join(directory, 'index.mjs'), 'utf8');
    assert.ok(
      bundle.startsWith('import{createRequire as') ||
        bundle.startsWith('import { createRequire as'),
      bundle.slice(0, 120),
    );
    assert.ok(existsSync(join(directory, 'index.mjs.map')));
    assert.ok(!bundle.includes('\n  '), 'minified');
    const loaded = (await import(pathToFileURL(join(directory, 'index.mjs')).href)) as {
      handler: () => Promise<{ namespace: string }>;
    };
    assert.deepEqual(await loaded.handler(), { namespace: METRIC_NAMESPACE });
  });
});

describe('entries', () => {
  it('refuses a handler that does not exist, naming the file and the way out', () => {
    const stack = new Stack(
      new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }),
      'Missing',
    );
    assert.throws(
      () =>
        new StorefleetFunction(stack, 'Probe', {
          entry: 'lambdas/nowhere/handler.ts',
          description: 'x',
        }),
      (error: unknown) =>
        error instanceof MissingHandlerError &&
        error.message.includes('lambdas/nowhere/handler.ts does not exist') &&
        error.message.includes('-c lambdaEntryOverride=PATH'),
    );
  });

  it('lists every missing handler of the app at once', () => {
    const app = new App({ context: { lambdaEntryOverride: 'lambdas/nowhere/handler.ts' } });
    assert.throws(
      () => defineStorefleet(app, loadFleetConfigFile(EXAMPLE_CONFIG), readDeployContext(app.node)),
      (error: unknown) =>
        error instanceof MissingHandlersError &&
        ['completeness', 'stress', 'publisher', 'api'].every((name) =>
          error.message.includes(`${name}: lambdas/nowhere/handler.ts`),
        ),
    );
  });
});
