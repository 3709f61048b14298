// `storefleet node run` names the bad flag and exits 2 instead of starting a half-configured node.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { NodeUsageError, parseRetention, parseShards } from '../../../cli/commands/node.ts';
import { buildProgram, exitCodeFor } from '../../../cli/main.ts';

describe('node command flags', () => {
  it('parses shard lists and nwaku retention policies', () => {
    assert.deepEqual(parseShards('1, 32,32,64'), [1, 32, 64]);
    assert.deepEqual(parseRetention('capacity:1000'), { maxMessages: 1000 });
    assert.deepEqual(parseRetention('time:60'), { maxAgeMs: 60_000 });
  });

  it('refuses bad values with an error that names the flag and exits 2', async () => {
    for (const args of [
      ['--shards', '1,x'],
      ['--shards', '5000'],
      ['--retention', 'size:lots'],
      ['--tcp-port', '70000'],
      ['--cluster', '-1'],
    ]) {
      const program = buildProgram();
      program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
      const failure = await program
        .parseAsync(['node', 'storefleet', 'node', 'run', '--data-dir', '/nonexistent', ...args])
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      assert.ok(failure instanceof Error, args.join(' '));
      assert.ok(failure instanceof NodeUsageError, `${args.join(' ')}: ${String(failure)}`);
      assert.match(failure.message, new RegExp(`^${args[0]}`));
      assert.equal(exitCodeFor(failure), 2);
    }
  });
});
