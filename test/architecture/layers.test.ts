// The layering rules of STYLE.md, checked on the source: fleet/ stays pure, control/ works through its ports, infra/ holds no runtime logic, the two runtimes stay apart.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [
    ...text.matchAll(
      /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm,
    ),
  ].map((match) => (match[1] ?? match[2]) as string);
}

/** Pure modules may use zod and node:crypto (hashing and signature checks are computation, not I/O). */
const FLEET_ALLOWED_PACKAGES = new Set(['zod', 'node:crypto']);

describe('fleet/ is pure', () => {
  it('imports nothing but zod, node:crypto and other fleet/ modules', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles('fleet')) {
      for (const spec of importsOf(file)) {
        const inside =
          spec.startsWith('.') &&
          !join(file, '..', spec).startsWith('..') &&
          join(file, '..', spec).startsWith('fleet');
        if (!inside && !FLEET_ALLOWED_PACKAGES.has(spec)) offenders.push(`${file} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('reads no clock and no environment', () => {
    const offenders = sourceFiles('fleet').filter((file) =>
      /\bDate\.now\(|new Date\(\)|performance\.now\(|process\.env|Math\.random\(/.test(
        readFileSync(join(ROOT, file), 'utf8'),
      ),
    );
    assert.deepEqual(offenders, []);
  });

  it('the check itself catches an impure import', () => {
    // Guards the guard: if the import scanner stopped matching, the tests above would pass vacuously.
    assert.ok(importsOf('fleet/config.ts').includes('zod'));
  });
});

describe('infra/ holds no runtime logic', () => {
  it('imports runtime folders only for types or config parsing', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles('infra')) {
      for (const spec of importsOf(file)) {
        if (/\/(waku|local|lambdas)\//.test(spec)) offenders.push(`${file} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});

/** The control step runs the same on AWS and locally: it only talks to the world through fleet/ports.ts. */
const CONTROL_ALLOWED_PACKAGES = new Set(['zod', 'node:crypto']);

function controlMayImport(file: string, spec: string): boolean {
  if (!spec.startsWith('.')) return CONTROL_ALLOWED_PACKAGES.has(spec);
  const target = join(file, '..', spec);
  return target.startsWith('control/') || target.startsWith('fleet/');
}

describe('control/ works through the ports in fleet/', () => {
  it('imports nothing but fleet/, zod, node:crypto and other control/ modules', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles('control')) {
      for (const spec of importsOf(file)) {
        if (!controlMayImport(file, spec)) offenders.push(`${file} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('the rule refuses the runtimes and AWS SDKs, and the scanner sees control/ imports', () => {
    const file = 'control/decide-round.ts';
    for (const spec of ['../fleet/ports.ts', './rounds.ts', 'zod', 'node:crypto']) {
      assert.ok(controlMayImport(file, spec), spec);
    }
    for (const spec of [
      '../waku/client/dialer.ts',
      '../local/api.ts',
      '../lambdas/shared/node-directory.ts',
      '../infra/app.ts',
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      'libp2p',
      'node:fs',
    ]) {
      assert.ok(!controlMayImport(file, spec), spec);
    }
    assert.ok(importsOf(file).some((spec) => spec.startsWith('../fleet/')));
  });
});

describe('lambdas/ and local/ are two runtimes of the same control step', () => {
  it('neither imports the other', () => {
    const offenders: string[] = [];
    for (const [folder, other] of [
      ['lambdas', 'local'],
      ['local', 'lambdas'],
    ] as const) {
      for (const file of sourceFiles(folder)) {
        for (const spec of importsOf(file)) {
          if (spec.startsWith('.') && join(file, '..', spec).startsWith(`${other}/`)) {
            offenders.push(`${file} imports ${spec}`);
          }
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('the check itself sees relative imports in both folders', () => {
    assert.ok(importsOf('lambdas/api/handler.ts').includes('../shared/control-ports.ts'));
    assert.ok(
      sourceFiles('local').some((file) => importsOf(file).some((spec) => spec.startsWith('./'))),
    );
  });
});
