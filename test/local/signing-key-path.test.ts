// Where `storefleet start` keeps the registry signing key: under --data-dir when the config points into .storefleet/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { parseFleetConfig } from '../../fleet/config.ts';
import { signingKeyPath } from '../../local/orchestrator.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const example = JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8'));
const withKey = (signingKey: unknown) =>
  parseFleetConfig({ ...example, registry: { ...example.registry, signingKey } });

describe('the signing key path', () => {
  it('follows the data folder for a key under .storefleet/', () => {
    assert.equal(
      signingKeyPath(
        withKey({ kind: 'file', path: '.storefleet/registry-signing-key.pem' }),
        '/tmp/fleet-a',
      ),
      '/tmp/fleet-a/registry-signing-key.pem',
    );
  });

  it('keeps absolute paths and resolves other relative ones from the working directory', () => {
    assert.equal(
      signingKeyPath(withKey({ kind: 'file', path: '/etc/keys/registry.pem' }), '/tmp/x'),
      '/etc/keys/registry.pem',
    );
    assert.equal(
      signingKeyPath(withKey({ kind: 'file', path: 'keys/registry.pem' }), '/tmp/x'),
      resolve('keys/registry.pem'),
    );
  });

  it('refuses a KMS key, which needs AWS', () => {
    assert.throws(
      () => signingKeyPath(withKey({ kind: 'kms', keyAlias: 'alias/registry' }), '/tmp/x'),
      /kms.*needs AWS/,
    );
  });
});
