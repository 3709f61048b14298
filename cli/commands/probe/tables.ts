// Probe command tables: a probe round, a completeness window and a stress report as text for a terminal.
import type { CompletenessResult, ProbeResult, ProbeRound } from '../../../fleet/observations.ts';
import type { StressReport } from '../../../probes/stress/run-stress.ts';

function describeProbe(result: ProbeResult | undefined): string {
  if (result === undefined) return '-';
  if (!result.ok) return `FAIL ${result.errorClass ?? 'unknown'}`;
  switch (result.kind) {
    case 'ping':
      return `${(result.latencyMs ?? 0).toFixed(1)} ms${result.freshDial ? ' (fresh)' : ''}`;
    case 'metadata':
      return `cluster ${result.clusterId}`;
    case 'store':
      return result.newestMessageAgeMs === null || result.newestMessageAgeMs === undefined
        ? 'no recent msg'
        : `newest ${(result.newestMessageAgeMs / 1000).toFixed(1)} s ago`;
    case 'health':
      return result.nodeHealth ?? 'ok';
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

/** A probe round as a table: one row per node, one column per probe kind. */
export function formatProbeRound(round: ProbeRound): string {
  const nodes = [...new Set(round.results.map((result) => result.nodeId))];
  const rows = nodes.map((nodeId) => {
    const of = (kind: ProbeResult['kind']) =>
      round.results.find((result) => result.nodeId === nodeId && result.kind === kind);
    return [
      nodeId,
      describeProbe(of('ping')),
      describeProbe(of('metadata')),
      describeProbe(of('store')),
      describeProbe(of('health')),
    ];
  });
  return `${table(['node', 'ping', 'metadata', 'store', 'health'], rows)}\nround ${round.round} from ${round.vantageId} in ${round.finishedAtMs - round.startedAtMs} ms`;
}

export function formatCompleteness(results: readonly CompletenessResult[]): string {
  const first = results[0];
  const rows = results.map((result) => [
    result.nodeId,
    result.completeness === null ? 'no answer' : `${(result.completeness * 100).toFixed(2)} %`,
    String(result.heldCount),
    String(result.missingCount),
    String(result.unknownCount),
  ]);
  const window = first
    ? `window ${new Date(first.windowStartMs).toISOString()} .. ${new Date(first.windowEndMs).toISOString()}, ${first.unionCount} messages in the union`
    : 'no nodes';
  return `${table(['node', 'completeness', 'held', 'missing', 'unknown'], rows)}\n${window}`;
}

export function formatStressReport(report: StressReport): string {
  const { summary, latency } = report;
  const errors = Object.entries(report.errorsByClass)
    .map(([errorClass, count]) => `${errorClass} ${count}`)
    .join(', ');
  return [
    `${summary.transport} stress of ${summary.nodeId} (${report.target})${summary.aborted ? `: ABORTED (${report.abortReason})` : ''}`,
    `rate: target ${summary.targetRatePerSecond}/s, sent ${report.sentRatePerSecond.toFixed(1)}/s, answered well ${summary.achievedRatePerSecond.toFixed(1)}/s`,
    `requests: scheduled ${report.scheduled}, sent ${report.sent}, ok ${report.succeeded}, failed ${report.failed}, dropped ${report.dropped}, late ${report.lateSends}, cancelled ${report.cancelled}, not sent ${report.notSent}`,
    `latency from intended send: p50 ${latency.p50Ms.toFixed(2)} ms, p90 ${latency.p90Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms, p99.9 ${latency.p999Ms.toFixed(2)} ms, max ${latency.maxMs.toFixed(2)} ms`,
    `errors: ${errors || 'none'} (error rate incl. dropped ${(summary.errorRate * 100).toFixed(2)} %)`,
    `SLO (p99 <= ${report.sloP99Ms} ms, errors <= budget): ${summary.sloMet ? 'met' : 'MISSED'}`,
  ].join('\n');
}
