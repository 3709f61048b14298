// A vantage point's round: probe the fleet through its prober, record the round for the controller, log each node's figures.
import type { ProbeRound } from '../fleet/observations.ts';
import type { ProbeRoundRecorder, StructuredLog, VantageProber } from '../fleet/ports.ts';

export interface VantageRoundPorts {
  prober: VantageProber;
  recorder: ProbeRoundRecorder;
  /** Per-node figures (success, latency, error) go here, one line per round, queryable later. */
  log?: StructuredLog;
}

/**
 * Probes and records one round. The recorder is written before this resolves, so a controller
 * gathering round `round` sees the report as soon as it exists.
 * @example
 * const report = await runVantageRound({ prober, recorder: store, log }, 42);
 */
export async function runVantageRound(
  ports: VantageRoundPorts,
  round: number,
): Promise<ProbeRound> {
  const probeRound = await ports.prober.probeRound(round);
  await ports.recorder.recordProbeRound(probeRound);
  ports.log?.info('vantage round', {
    vantageId: probeRound.vantageId,
    round,
    nodes: nodeFigures(probeRound),
  });
  return probeRound;
}

/** Per node: whether every probe passed, the ping latency, and the first failure. */
export function nodeFigures(
  probeRound: ProbeRound,
): Record<string, { ok: boolean; pingMs?: number; failure?: string }> {
  const figures: Record<string, { ok: boolean; pingMs?: number; failure?: string }> = {};
  for (const result of probeRound.results) {
    const figure = figures[result.nodeId] ?? { ok: true };
    figures[result.nodeId] = figure;
    if (result.ok && result.kind === 'ping' && result.latencyMs !== undefined) {
      figure.pingMs = result.latencyMs;
    }
    if (!result.ok) {
      figure.ok = false;
      figure.failure ??= `${result.kind} ${result.errorClass ?? 'failed'}`;
    }
  }
  return figures;
}
