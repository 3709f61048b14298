// The layering rules of STYLE.md, checked on the source: fleet/ stays pure, infra/ holds no runtime logic.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

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
