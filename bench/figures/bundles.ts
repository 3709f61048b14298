// Figure 6: each Lambda bundle's size and cold import time, bundled as infra/StorefleetFunction.ts bundles it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { FUNCTION_ENVIRONMENT } from '../../fleet/function-environment.ts';
import { type Figure, type FigureRow, verdict } from '../figure.ts';
import { formatNumber, formatSpread, spreadOf } from '../stats.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
/** Inside node_modules so that the bundle's external `@aws-sdk/*` imports resolve as the Lambda runtime resolves them. */
const OUT_DIR = join(ROOT, 'node_modules', '.cache', 'storefleet-bench', 'bundles');
const MAX_BYTES = 300 * 1024;
const MAX_IMPORT_MS = 100;
/** Mirrors StorefleetFunction's banner: bundled CommonJS still calls `require`, which ESM lacks. */
const REQUIRE_SHIM =
  "import { createRequire as storefleetCreateRequire } from 'node:module'; const require = storefleetCreateRequire(import.meta.url);";
const IMPORT_TIMEOUT_MS = 30_000;
const LARGEST_PACKAGES_SHOWN = 4;

/**
 * Handlers read their environment (set by the CDK app) at import; stand-in values let the module
 * load as it would in Lambda. No AWS call is made at import.
 */
const FUNCTION_ENV_STAND_IN: Record<string, string> = {
  ...Object.fromEntries(
    Object.values(FUNCTION_ENVIRONMENT).map((name) => [name, 'bench-stand-in']),
  ),
  [FUNCTION_ENVIRONMENT.loopSeconds]: '60',
  [FUNCTION_ENVIRONMENT.controlRegion]: 'eu-central-1',
  AWS_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'bench-stand-in',
  AWS_SECRET_ACCESS_KEY: 'bench-stand-in',
};

/** Imports the bundle in a fresh process and prints how long the import took. */
const IMPORT_SCRIPT =
  'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';

interface BundleMeasurement {
  name: string;
  entry: string;
  missing?: boolean;
  error?: string;
  bytes?: number;
  withLibp2p?: boolean;
  importMs?: number[];
  largest?: string[];
  external?: string[];
  /** Cold import of the bundle's external AWS SDK modules alone. */
  sdkImportMs?: number[];
}

async function handlerEntries(): Promise<Record<string, string>> {
  // The list the CDK app deploys, so that a new function is measured without touching the bench.
  const { HANDLER_ENTRIES } = await import('../../infra/ControlPlane.ts');
  return { ...HANDLER_ENTRIES };
}

export async function bundle(
  name: string,
  entry: string,
): Promise<{
  file: string;
  bytes: number;
  withLibp2p: boolean;
  largest: string[];
  external: string[];
}> {
  const esbuild = await import('esbuild');
  const file = join(OUT_DIR, `${name}.mjs`);
  const result = await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    mainFields: ['module', 'main'],
    minify: true,
    banner: { js: REQUIRE_SHIM },
    external: ['@aws-sdk/*'],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const withLibp2p = inputs.some((input) => /node_modules\/(libp2p|@libp2p)\//.test(input));
  const output = Object.values(result.metafile.outputs)[0];
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'storefleet';
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const largest = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, LARGEST_PACKAGES_SHOWN)
    .map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)} KB`);
  const external = [
    ...new Set(
      (output?.imports ?? [])
        .filter((entry) => entry.external && entry.path.startsWith('@aws-sdk/'))
        .map((entry) => entry.path),
    ),
  ];
  return { file, bytes: statSync(file).size, withLibp2p, largest, external };
}

export async function coldImportMs(file: string): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href],
    { timeout: IMPORT_TIMEOUT_MS, env: { ...process.env, ...FUNCTION_ENV_STAND_IN } },
  );
  return Number(stdout.trim());
}

/** The thrown error's own line, not node's echo of the minified source. */
function importFailure(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr ?? '';
  const thrown = stderr.split('\n').find((line) => /Error\b/.test(line) && line.length < 300);
  return (thrown ?? String(error).split('\n')[0] ?? 'failed').trim();
}

export const bundlesFigure: Figure = {
  id: 'bundles',
  number: 6,
  title: 'Lambda bundle size and cold import time',
  async run({ quick, log }) {
    const imports = quick ? 2 : 7;
    rmSync(OUT_DIR, { recursive: true, force: true });
    mkdirSync(OUT_DIR, { recursive: true });
    const measured: BundleMeasurement[] = [];
    for (const [name, entry] of Object.entries(await handlerEntries())) {
      if (!existsSync(join(ROOT, entry))) {
        measured.push({ name, entry, missing: true });
        continue;
      }
      try {
        const built = await bundle(name, entry);
        // A first import warms the page cache, as a Lambda's code is on local disk before its cold start.
        await coldImportMs(built.file).catch(() => Number.NaN);
        const importMs: number[] = [];
        for (let i = 0; i < imports; i++) importMs.push(await coldImportMs(built.file));
        // The share of the cold import that is the runtime's AWS SDK, which no bundle change removes.
        const sdkImportMs: number[] = [];
        if (built.external.length > 0) {
          const sdkFile = join(OUT_DIR, `${name}-aws-sdk.mjs`);
          writeFileSync(sdkFile, built.external.map((path) => `import '${path}';`).join('\n'));
          await coldImportMs(sdkFile).catch(() => Number.NaN);
          const sdkImports = quick ? 1 : imports;
          for (let i = 0; i < sdkImports; i++) sdkImportMs.push(await coldImportMs(sdkFile));
        }
        measured.push({
          name,
          entry,
          bytes: built.bytes,
          withLibp2p: built.withLibp2p,
          importMs,
          largest: built.largest,
          external: built.external,
          sdkImportMs,
        });
        log(
          `bundle ${name}: ${built.bytes} bytes, import median ${spreadOf(importMs).p50.toFixed(0)} ms`,
        );
      } catch (error) {
        measured.push({ name, entry, error: importFailure(error) });
      }
    }
    const rows: FigureRow[] = measured.map((m) => {
      const figure = `6. Lambda bundle \`${m.name}\`${m.withLibp2p ? ' (libp2p)' : ''}: size, cold import`;
      if (m.missing) {
        return {
          figure,
          storefleet: `missing (${m.entry} does not exist)`,
          peer: '-',
          ratio: '-',
          target: '<= 300 KB, <= 100 ms',
          met: 'not measured',
        };
      }
      if (m.error !== undefined) {
        return {
          figure,
          storefleet: `not measured: ${m.error}`,
          peer: '-',
          ratio: '-',
          target: '<= 300 KB, <= 100 ms',
          met: 'not measured',
        };
      }
      const spread = spreadOf(m.importMs ?? []);
      const kb = (m.bytes ?? 0) / 1024;
      const sdk = m.sdkImportMs?.length
        ? `, AWS SDK alone ${formatNumber(spreadOf(m.sdkImportMs).p50)} ms`
        : '';
      return {
        figure,
        storefleet: `${formatNumber(kb)} KB; import ${formatSpread(spread, 'ms')}${sdk}`,
        peer: '-',
        ratio: '-',
        target: m.withLibp2p ? 'report only (libp2p)' : '<= 300 KB, <= 100 ms',
        met: m.withLibp2p
          ? 'n/a'
          : verdict((m.bytes ?? Infinity) <= MAX_BYTES && spread.p50 <= MAX_IMPORT_MS),
      };
    });
    const plain = measured.filter((m) => m.importMs !== undefined && !m.withLibp2p);
    const verdictNote = plain.map((m) => {
      const importMedian = spreadOf(m.importMs ?? []).p50;
      const sdkMedian = spreadOf(m.sdkImportMs ?? []).p50;
      const size = (m.bytes ?? 0) <= MAX_BYTES ? 'size met' : 'size missed';
      const time =
        importMedian <= MAX_IMPORT_MS
          ? 'import met'
          : `import missed by ${formatNumber(importMedian - MAX_IMPORT_MS)} ms${Number.isFinite(sdkMedian) ? ` (the AWS SDK clients it imports take ${formatNumber(sdkMedian)} ms on their own)` : ''}`;
      return `\`${m.name}\`: ${size}, ${time}`;
    });
    return {
      rows,
      notes: [
        ...(verdictNote.length > 0
          ? [
              `Bundles without libp2p: ${verdictNote.join('; ')}. Where the import misses, most of it is the AWS SDK v3 clients that the runtime provides, loaded at module scope; importing the clients a handler needs only on some paths lazily (or fewer clients per function) is what would bring it under ${MAX_IMPORT_MS} ms.`,
            ]
          : []),
        `Bundles: esbuild ESM, minified, platform node, target node24, mainFields module/main, @aws-sdk/* external (the nodejs24.x runtime provides it), the same require banner as infra/StorefleetFunction.ts; no source map counted. Cold import: a fresh \`node\` process timing \`await import(bundle)\` (external @aws-sdk/* modules resolve from node_modules and are included), median of ${imports} after one page-cache warm-up.`,
        ...measured
          .filter((m) => m.largest !== undefined)
          .map(
            (m) =>
              `Bundle \`${m.name}\`: largest parts ${m.largest?.join(', ')}; imports from the runtime's AWS SDK ${m.external?.join(', ') || 'nothing'}${m.sdkImportMs?.length ? `, which alone take ${formatNumber(spreadOf(m.sdkImportMs).p50)} ms of the cold import` : ''}.`,
          ),
      ],
      raw: measured,
    };
  },
};
