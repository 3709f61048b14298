// The shared Logger: one instance, JSON lines on stdout tagged with the storefleet service name.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { logger, SERVICE_NAME } from '../../../lambdas/adapters/logger.ts';
import { captureStdout } from './capture-stdout.ts';

describe('the shared logger', () => {
  it('writes one JSON line per entry with the service name and the given attributes', async () => {
    // Prepare
    const again = await import('../../../lambdas/adapters/logger.ts');

    // Act
    const lines = await captureStdout(() => {
      logger.info('published fleets.json', { sequence: 42 });
    });

    // Assess
    assert.equal(again.logger, logger, 'one instance per execution environment');
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0] as string);
    assert.equal(entry.service, SERVICE_NAME);
    assert.equal(entry.service, 'storefleet');
    assert.equal(entry.level, 'INFO');
    assert.equal(entry.message, 'published fleets.json');
    assert.equal(entry.sequence, 42);
  });
});
