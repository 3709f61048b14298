// The handler bundles as the CDK app builds them (esbuild, ESM, AWS SDK external): libp2p goes only into the functions that dial nodes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
/** Control-plane handlers stay well below this; the libp2p stack alone is about 600 KB minified. */
const CONTROL_PLANE_BUNDLE_MAX_BYTES = 800 * 1024;
const LIBP2P_PACKAGE = /node_modules\/(libp2p|@libp2p|@chainsafe)\//;

async function bundle(name: string) {
  const result = await build({
    entryPoints: [join(ROOT, 'lambdas', name, 'handler.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    minify: true,
    external: ['@aws-sdk/*'],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  return {
    sizeBytes: result.outputFiles[0]?.contents.byteLength ?? 0,
    libp2pInputs: inputs.filter((input) => LIBP2P_PACKAGE.test(input)),
    inputs,
  };
}

describe('handler bundles', () => {
  for (const name of ['publisher', 'api']) {
    it(`${name} bundles without libp2p and stays small`, async () => {
      const { sizeBytes, libp2pInputs, inputs } = await bundle(name);
      assert.deepEqual(libp2pInputs, []);
      assert.ok(inputs.some((input) => input.startsWith(`lambdas/${name}/`)));
      assert.ok(
        sizeBytes < CONTROL_PLANE_BUNDLE_MAX_BYTES,
        `${name} bundle is ${sizeBytes} bytes, above ${CONTROL_PLANE_BUNDLE_MAX_BYTES}`,
      );
    });
  }

  for (const name of ['completeness', 'stress']) {
    it(`${name} bundles the libp2p dialer it needs`, async () => {
      const { libp2pInputs } = await bundle(name);
      assert.ok(libp2pInputs.length > 0);
    });
  }
});
