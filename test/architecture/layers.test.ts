// The layering rules of the README's Layout section, checked on the source: fleet/ stays pure, control/ works through its ports,
// infra/ holds no runtime logic, and the two runtimes stay apart and leave every decision and publish policy to control/.
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

/** A named import and whether it is a value (a type-only import carries no policy). */
interface NamedImport {
  spec: string;
  name: string;
  typeOnly: boolean;
}

function namedImportsOf(text: string): NamedImport[] {
  const found: NamedImport[] = [];
  for (const match of text.matchAll(
    /^\s*(import|export)\s+(type\s+)?\{([^}]*)\}\s*from\s+['"]([^'"]+)['"]/gm,
  )) {
    const statementIsType = match[2] !== undefined;
    for (const part of (match[3] as string).split(',')) {
      const words = part.trim().split(/\s+/);
      if (words[0] === '') continue;
      const typeOnly = statementIsType || words[0] === 'type';
      const name = (words[0] === 'type' ? words[1] : words[0]) as string;
      found.push({ spec: match[4] as string, name, typeOnly });
    }
  }
  for (const match of text.matchAll(
    /^\s*import\s+(type\s+)?\*\s+as\s+\w+\s+from\s+['"]([^'"]+)['"]/gm,
  )) {
    found.push({ spec: match[2] as string, name: '*', typeOnly: match[1] !== undefined });
  }
  return found;
}

/**
 * The control step's parts: a runtime that imports one of these is stitching the step together
 * itself. It should run the loop instead (FleetController, RegistryPublication, watchRound,
 * WatchLoop, fleetView, drainByOperator from control/).
 */
const STEP_PARTS = new Set([
  'runControllerRound',
  'decideRound',
  'performActions',
  'buildRegistryArtifacts',
  'listedNodesOf',
  'registryListing',
  'republishAfterMs',
  'assertPublishable',
  'assertArtifactsPublishable',
]);

/**
 * The RegistryPublisher contract (fleet/ports.ts) makes a publisher refuse an unsafe version
 * itself, so the adapters that write the bytes may call the publish guard as a last defence.
 */
const PUBLISHER_ADAPTERS = new Set([
  'local/file-publisher.ts',
  'lambdas/adapters/S3RegistryPublisher.ts',
]);
const PUBLISH_GUARD = new Set(['assertPublishable', 'assertArtifactsPublishable']);

/** fleet/ modules that hold decision policy: the controller's round and the failover rules. */
function isDecisionModule(target: string): boolean {
  if (target === 'fleet/controller.ts' || target.startsWith('fleet/controller/')) return true;
  // actions.ts spells alarm actions; tasks-below-desired.ts is the rule for the alarm a runtime
  // raises about its own tasks, between rounds, which no controller round decides.
  return (
    target.startsWith('fleet/failover/') &&
    target !== 'fleet/failover/actions.ts' &&
    target !== 'fleet/failover/tasks-below-desired.ts'
  );
}

function policyImportsOf(file: string, text: string): string[] {
  const offenders: string[] = [];
  for (const { spec, name, typeOnly } of namedImportsOf(text)) {
    if (typeOnly || !spec.startsWith('.')) continue;
    const target = join(file, '..', spec);
    const guardInAdapter = PUBLISHER_ADAPTERS.has(file) && PUBLISH_GUARD.has(name);
    if (STEP_PARTS.has(name) && !guardInAdapter)
      offenders.push(`${file} imports ${name} from ${spec}`);
    else if (isDecisionModule(target)) offenders.push(`${file} imports ${name} from ${spec}`);
  }
  return offenders;
}

function runtimePolicyImports(folder: 'local' | 'lambdas'): string[] {
  return sourceFiles(folder).flatMap((file) =>
    policyImportsOf(file, readFileSync(join(ROOT, file), 'utf8')),
  );
}

describe('lambdas/ and local/ hold no decision or publish policy: they run the loop from control/', () => {
  it('local/ imports no part of the control step and no failover rule', () => {
    assert.deepEqual(runtimePolicyImports('local'), []);
  });

  it('lambdas/ imports no part of the control step and no failover rule', () => {
    assert.deepEqual(runtimePolicyImports('lambdas'), []);
  });

  it('the check itself catches a runtime stitching the step together, and lets ports and types through', () => {
    const stitched = [
      "import { type DecisionStore, decideRound } from '../../control/decide-round.ts';",
      "import { fleetReputations } from '../../fleet/controller.ts';",
      "import { assertArtifactsPublishable, type RegistrySigner } from '../../fleet/registry/index.ts';",
      "import { isDrainCandidate } from '../../fleet/failover/drain-requires-quorum.ts';",
    ].join('\n');
    assert.deepEqual(policyImportsOf('lambdas/controller/controller-handler.ts', stitched), [
      'lambdas/controller/controller-handler.ts imports decideRound from ../../control/decide-round.ts',
      'lambdas/controller/controller-handler.ts imports fleetReputations from ../../fleet/controller.ts',
      'lambdas/controller/controller-handler.ts imports assertArtifactsPublishable from ../../fleet/registry/index.ts',
      'lambdas/controller/controller-handler.ts imports isDrainCandidate from ../../fleet/failover/drain-requires-quorum.ts',
    ]);
    const wiring = [
      "import { FleetController } from '../control/controller-round.ts';",
      "import type { FleetAction } from '../fleet/controller.ts';",
      "import { type RaiseAlarmAction, alarmInstanceId } from '../fleet/failover/actions.ts';",
      "import { assertPublishable, parseFleetsJsonBytes } from '../fleet/registry/index.ts';",
    ].join('\n');
    assert.deepEqual(policyImportsOf('local/orchestrator.ts', wiring), [
      'local/orchestrator.ts imports assertPublishable from ../fleet/registry/index.ts',
    ]);
    assert.deepEqual(policyImportsOf('local/file-publisher.ts', wiring), []);
  });
});
