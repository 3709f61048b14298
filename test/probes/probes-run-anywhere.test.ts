// probes/ is called by the local runtime, the Lambdas and the CLI alike, so it depends on none of them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function probeSources(): string[] {
  return readdirSync(join(ROOT, 'probes'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [
    ...text.matchAll(
      /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"]([^'"]+)['"]/gm,
    ),
  ].map((match) => (match[1] ?? match[2] ?? match[3]) as string);
}

describe('probes/ runs the same in the local runtime, a Lambda and the CLI', () => {
  it('imports nothing from local/, lambdas/, infra/ or cli/', () => {
    const offenders: string[] = [];
    for (const file of probeSources()) {
      for (const spec of importsOf(file)) {
        if (/(^|\/)(local|lambdas|infra|cli)\//.test(spec))
          offenders.push(`${file} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('reads the wall clock only through the injected ProbeClock', () => {
    const offenders = probeSources().filter(
      (file) =>
        file !== 'probes/clock.ts' &&
        /\bDate\.now\(|new Date\(\)/.test(readFileSync(join(ROOT, file), 'utf8')),
    );
    assert.deepEqual(offenders, []);
  });

  it('the import scanner sees the imports it checks', () => {
    assert.ok(importsOf('probes/probe-round.ts').includes('../fleet/observations.ts'));
  });
});
