// `storefleet config check` as an operator runs it: exit 0 and a summary for a good file, exit 2 naming the field otherwise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import type { FleetConfigInput } from '../../fleet/config.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLE = join(ROOT, 'config', 'fleet.example.json');

function check(file?: string) {
  const result = spawnSync(
    join(ROOT, 'bin', 'storefleet'),
    ['config', 'check', ...(file ? [file] : [])],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function withEdit(edit: (config: FleetConfigInput) => void): string {
  const config = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as FleetConfigInput;
  edit(config);
  const file = join(mkdtempSync(join(tmpdir(), 'storefleet-config-')), 'fleet.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('storefleet config check', () => {
  it('accepts the example config and summarises it', () => {
    const { status, stdout } = check();

    assert.equal(status, 0);
    assert.match(
      stdout,
      /config\/fleet\.example\.json: ok \(fleet storefleet\.test, 6 nodes in 3 locations, 3 vantage points\)/,
    );
  });

  const cases: Array<[string, (config: FleetConfigInput) => void, RegExp]> = [
    [
      'a duplicate node id',
      (c) => {
        c.nodes[1]!.id = c.nodes[0]!.id;
      },
      /nodes\[1\]\.id: got "store-01\.eu-central\.storefleet\.test"; duplicate node id/,
    ],
    [
      'a bad port',
      (c) => {
        c.defaults!.ports!.rest = 0;
      },
      /defaults\.ports\.rest: got 0; Too small/,
    ],
    [
      'an unknown vantage point',
      (c) => {
        c.completeness = { ...c.completeness, vantageId: 'vp-moon' };
      },
      /completeness\.vantageId: got "vp-moon"; unknown vantage point/,
    ],
    [
      'min-healthy larger than the fleet',
      (c) => {
        c.failover = { ...c.failover, minHealthy: 9 };
      },
      /failover\.minHealthy: got 9; larger than the fleet \(6 nodes\)/,
    ],
  ];
  for (const [what, edit, expected] of cases) {
    it(`exits 2 and names the field for ${what}`, () => {
      const { status, stderr, stdout } = check(withEdit(edit));

      assert.equal(status, 2, stdout + stderr);
      assert.match(stderr, /^FleetConfigError: .*fleet\.json is invalid:/);
      assert.match(stderr, expected);
    });
  }

  it('exits 2 for a file that is not JSON, saying so', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'storefleet-config-')), 'broken.json');
    writeFileSync(file, '{"fleet": ');

    const { status, stderr } = check(file);

    assert.equal(status, 2);
    assert.match(stderr, /broken\.json is invalid:\n {2}- not valid JSON/);
  });

  it('exits 2 for a file that does not exist, naming it', () => {
    const { status, stderr } = check('/nonexistent/fleet.json');

    assert.equal(status, 2);
    assert.match(stderr, /\/nonexistent\/fleet\.json is invalid:\n {2}- cannot read the file/);
  });
});
