// A stress report as one self-contained HTML page: summary table and an inline-SVG latency percentile plot.
import type { PercentilePoint } from './latency-recorder.ts';
import type { StressReport } from './run-stress.ts';

const PLOT_WIDTH = 720;
const PLOT_HEIGHT = 320;
const MARGIN = { top: 20, right: 20, bottom: 44, left: 64 };
/** The x axis counts nines (90 %, 99 %, 99.9 %...); the maximum sits just past the last tick. */
const MAX_NINES = 4;
const MAX_POINT_NINES = 4.3;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function nines(percentile: number): number {
  if (percentile >= 100) return MAX_POINT_NINES;
  return Math.min(MAX_NINES, Math.log10(100 / (100 - percentile)));
}

function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** The percentile plot as an SVG element (exported for tests and other reports). */
export function percentilePlotSvg(points: readonly PercentilePoint[], sloP99Ms?: number): string {
  const innerWidth = PLOT_WIDTH - MARGIN.left - MARGIN.right;
  const innerHeight = PLOT_HEIGHT - MARGIN.top - MARGIN.bottom;
  // Scaled to the measurements: an SLO far above them would flatten the curve, so it is only noted.
  const highest = Math.max(1, ...points.map((p) => p.latencyMs));
  const yMax = niceCeiling(highest * 1.1);
  const x = (percentile: number) =>
    MARGIN.left + (nines(percentile) / MAX_POINT_NINES) * innerWidth;
  const y = (ms: number) => MARGIN.top + innerHeight - (ms / yMax) * innerHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" role="img" aria-label="latency by percentile">`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${innerWidth}" height="${innerHeight}" fill="#fafafa" stroke="#ccc"/>`,
  ];
  for (const [percentile, label] of [
    [0, '0%'],
    [90, '90%'],
    [99, '99%'],
    [99.9, '99.9%'],
    [99.99, '99.99%'],
    [100, 'max'],
  ] as const) {
    const px = x(percentile).toFixed(1);
    parts.push(
      `<line x1="${px}" y1="${MARGIN.top}" x2="${px}" y2="${MARGIN.top + innerHeight}" stroke="#e4e4e4"/>`,
      `<text x="${px}" y="${PLOT_HEIGHT - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">${label}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const ms = (yMax * i) / 4;
    const py = y(ms).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" y1="${py}" x2="${MARGIN.left + innerWidth}" y2="${py}" stroke="#e4e4e4"/>`,
      `<text x="${MARGIN.left - 6}" y="${py}" font-size="11" text-anchor="end" dominant-baseline="middle">${Number(ms.toPrecision(3))} ms</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + innerWidth / 2}" y="${PLOT_HEIGHT - 6}" font-size="12" text-anchor="middle">percentile (from intended send time)</text>`,
  );
  if (sloP99Ms !== undefined && sloP99Ms > yMax) {
    parts.push(
      `<text x="${MARGIN.left + innerWidth - 4}" y="${MARGIN.top + 14}" font-size="11" text-anchor="end" fill="#c0392b">SLO p99 ${sloP99Ms} ms (above this scale)</text>`,
    );
  } else if (sloP99Ms !== undefined) {
    const py = y(sloP99Ms).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" y1="${py}" x2="${MARGIN.left + innerWidth}" y2="${py}" stroke="#c0392b" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + innerWidth - 4}" y="${Number(py) - 4}" font-size="11" text-anchor="end" fill="#c0392b">SLO p99 ${sloP99Ms} ms</text>`,
    );
  }
  if (points.length > 0) {
    const path = points
      .map(
        (p, i) =>
          `${i === 0 ? 'M' : 'L'}${x(p.percentile).toFixed(1)},${y(p.latencyMs).toFixed(1)}`,
      )
      .join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="#2c6fbb" stroke-width="2"/>`);
    for (const p of points) {
      parts.push(
        `<circle cx="${x(p.percentile).toFixed(1)}" cy="${y(p.latencyMs).toFixed(1)}" r="2.5" fill="#2c6fbb"><title>p${p.percentile}: ${p.latencyMs.toFixed(3)} ms</title></circle>`,
      );
    }
  } else {
    parts.push(
      `<text x="${MARGIN.left + innerWidth / 2}" y="${MARGIN.top + innerHeight / 2}" text-anchor="middle" font-size="14">no answered requests</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function row(label: string, value: string | number): string {
  return `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(String(value))}</td></tr>`;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

/** The whole report page; no scripts, styles or fonts are loaded from elsewhere. */
export function renderStressReportHtml(report: StressReport): string {
  const { summary } = report;
  const verdict = summary.aborted
    ? `ABORTED: ${report.abortReason ?? 'stopped'}`
    : summary.sloMet
      ? 'SLO met'
      : 'SLO missed';
  const errors = Object.entries(report.errorsByClass)
    .map(([errorClass, count]) => row(`errors: ${errorClass}`, count ?? 0))
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Stress report: ${escapeHtml(summary.nodeId)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { text-align: left; padding: 0.2rem 1rem 0.2rem 0; border-bottom: 1px solid #eee; }
th { font-weight: 600; }
.verdict { font-size: 1.2rem; font-weight: 700; }
.bad { color: #c0392b; } .good { color: #1e8449; }
</style>
</head>
<body>
<h1>Stress report: ${escapeHtml(summary.nodeId)}</h1>
<p class="verdict ${summary.sloMet ? 'good' : 'bad'}">${escapeHtml(verdict)}</p>
<p>${escapeHtml(summary.transport)} to ${escapeHtml(report.target)}, started ${escapeHtml(new Date(report.startedAtMs).toISOString())}.
Latency is measured from each request's intended send time (open model, coordinated omission corrected).</p>
${percentilePlotSvg(report.distribution, report.sloP99Ms)}
<table>
${row('target rate', `${summary.targetRatePerSecond} req/s`)}
${row('achieved rate (answered well)', `${summary.achievedRatePerSecond.toFixed(1)} req/s`)}
${row('sent rate', `${report.sentRatePerSecond.toFixed(1)} req/s`)}
${row('duration requested', `${report.requested.durationSeconds} s`)}
${row('connections', report.requested.connections)}
${row('scheduled', report.scheduled)}
${row('sent', report.sent)}
${row('succeeded', report.succeeded)}
${row('failed', report.failed)}
${row('dropped (in-flight cap reached)', report.dropped)}
${row('sent late (generator behind)', report.lateSends)}
${row('largest send lag', ms(report.maxSendLagMs))}
${row('cancelled by abort', report.cancelled)}
${row('not sent after abort', report.notSent)}
${row('error rate (failed + dropped)', `${(summary.errorRate * 100).toFixed(2)} %`)}
${errors}
${row('p50', ms(report.latency.p50Ms))}
${row('p90', ms(report.latency.p90Ms))}
${row('p99', ms(report.latency.p99Ms))}
${row('p99.9', ms(report.latency.p999Ms))}
${row('max', ms(report.latency.maxMs))}
${row('SLO p99', ms(report.sloP99Ms))}
</table>
</body>
</html>
`;
}
