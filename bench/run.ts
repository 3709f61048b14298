// `npm run bench [-- --quick] [-- --only=id,id]`: storefleet against its peers in one run, one table, results in bench/results/.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAverage } from './cpu.ts';
import type { Figure, FigureResult } from './figure.ts';
import { FIGURES } from './figure-list.ts';
import { renderTable } from './table.ts';

const BENCH_DIR = import.meta.dirname;
const RESULTS_DIR = join(BENCH_DIR, 'results');
const INSTALL_TIMEOUT_MS = 300_000;
/** A figure still running after this long is stopped and reported as not measured. */
const FIGURE_TIMEOUT_MS = { quick: 90_000, full: 600_000 } as const;

interface FigureOutcome {
  id: string;
  title: string;
  seconds: number;
  result: FigureResult;
}

function toolVersion(command: string, args: string[]): string {
  try {
    const output = execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return output.split('\n')[0]?.trim() ?? 'unknown';
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const stdout = (error as { stdout?: string }).stdout ?? '';
    return (stdout || stderr).split('\n')[0]?.trim() || 'not installed';
  }
}

function installPeers(log: (line: string) => void): string | undefined {
  try {
    execFileSync('sh', [join(BENCH_DIR, 'install-peers.sh')], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: INSTALL_TIMEOUT_MS,
    });
    return undefined;
  } catch (error) {
    const reason = `peer tools could not be installed (${String(error).split('\n')[0]})`;
    log(reason);
    return reason;
  }
}

function figureFailed(figure: Figure, error: unknown): FigureResult {
  const reason = String(error instanceof Error ? error.message : error).split('\n')[0] ?? 'failed';
  return {
    rows: [
      {
        figure: `${figure.number}. ${figure.title}`,
        storefleet: `not measured: ${reason}`,
        peer: '-',
        ratio: '-',
        target: '-',
        met: 'not measured',
      },
    ],
    notes: [],
    raw: { error: String(error instanceof Error ? (error.stack ?? error.message) : error) },
  };
}

/** Each figure in a fresh process: no heap, timers or sockets left over from the one before. */
function runFigureProcess(figure: Figure, quick: boolean, scratch: string): Promise<FigureResult> {
  const out = join(scratch, `${figure.id}.json`);
  const timeoutMs = FIGURE_TIMEOUT_MS[quick ? 'quick' : 'full'];
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(BENCH_DIR, 'run-figure.ts'), figure.id, '--out', out, ...(quick ? ['--quick'] : [])],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(JSON.parse(readFileSync(out, 'utf8')) as FigureResult);
      } else {
        reject(
          new Error(
            signal === 'SIGKILL'
              ? `still running after ${timeoutMs / 1000} s`
              : `figure process exited with ${signal ?? `code ${code}`}`,
          ),
        );
      }
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const only = values.only?.split(',').map((id) => id.trim());
  const startedAt = new Date();
  const started = performance.now();
  const loadAtStart = loadAverage();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const scratch = mkdtempSync(join(tmpdir(), 'storefleet-bench-'));

  log(
    `storefleet bench (${quick ? 'quick' : 'full'}), load average at start ${loadAtStart.join(' ')}`,
  );
  const installProblem = installPeers(log);
  const machine = {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    wrk: toolVersion('wrk', ['--version']),
    blackboxExporter: toolVersion('prometheus-blackbox-exporter', ['--version']),
    loadAverageAtStart: loadAtStart,
    ...(installProblem ? { installProblem } : {}),
  };

  const outcomes: FigureOutcome[] = [];
  for (const figure of FIGURES) {
    if (only && !only.includes(figure.id)) continue;
    const figureStarted = performance.now();
    log(`-- ${figure.title}`);
    let result: FigureResult;
    try {
      result = await runFigureProcess(figure, quick, scratch);
    } catch (error) {
      log(`${figure.id} failed: ${String(error)}`);
      result = figureFailed(figure, error);
    }
    outcomes.push({
      id: figure.id,
      title: figure.title,
      seconds: (performance.now() - figureStarted) / 1000,
      result,
    });
  }

  rmSync(scratch, { recursive: true, force: true });
  const loadAtEnd = loadAverage();
  const totalSeconds = (performance.now() - started) / 1000;
  // Figures print in the order of the issue (1..7), whatever order they ran in.
  const rows = outcomes
    .flatMap((outcome) => outcome.result.rows)
    .sort((a, b) => Number.parseInt(a.figure, 10) - Number.parseInt(b.figure, 10));
  const table = renderTable(rows);
  const date = startedAt.toISOString().slice(0, 10);
  const markdown = [
    `# storefleet benchmarks: ${date}${quick ? ' (quick run)' : ''}`,
    '',
    `Run on ${startedAt.toISOString()} with \`npm run bench${quick ? ' -- --quick' : ''}\` in ${totalSeconds.toFixed(0)} s.`,
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}; peers: ${machine.wrk}; ${machine.blackboxExporter}.`,
    `Load average (1/5/15 min) at start ${loadAtStart.join(' / ')}, at end ${loadAtEnd.join(' / ')}: other work shared the 2 cores, so every figure repeats and reports medians with their spread.`,
    '',
    'Ratios are storefleet relative to the peer measured in the same run on the same machine, oriented so that above 1 is better for storefleet (rates: ours / peer; CPU and cost: peer / ours).',
    '',
    table,
    '',
    '## How each figure was measured',
    '',
    ...outcomes.flatMap((outcome) => [
      `### ${outcome.title} (${outcome.seconds.toFixed(0)} s)`,
      '',
      ...outcome.result.notes.flatMap((note) => [note, '']),
    ]),
  ].join('\n');

  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(
    {
      date,
      startedAt: startedAt.toISOString(),
      mode: quick ? 'quick' : 'full',
      totalSeconds,
      machine,
      loadAverageAtEnd: loadAtEnd,
      rows,
      figures: outcomes.map((outcome) => ({
        id: outcome.id,
        title: outcome.title,
        seconds: outcome.seconds,
        notes: outcome.result.notes,
        raw: outcome.result.raw,
      })),
    },
    null,
    2,
  )}\n`;
  // A quick or partial run never replaces the full results that the README quotes.
  const names = quick || only ? ['quick'] : ['latest', date];
  for (const name of names) {
    writeFileSync(join(RESULTS_DIR, `${name}.md`), `${markdown}\n`);
    writeFileSync(join(RESULTS_DIR, `${name}.json`), json);
  }
  process.stdout.write(`${table}\n\n`);
  log(
    `bench finished in ${totalSeconds.toFixed(0)} s; results in ${names.map((name) => `bench/results/${name}.md`).join(', ')}`,
  );
}

// libp2p and HTTP keep-alive handles may linger after the figures close them.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
