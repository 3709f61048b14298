// Figure 5: one controller round (fleet/controller.ts) over 10,000 synthetic nodes seen from 3 vantage points.
import { type FleetConfig, parseFleetConfig } from '../../fleet/config.ts';
import { runControllerRound } from '../../fleet/controller.ts';
import type { ProbeResult, ProbeRound } from '../../fleet/observations.ts';
import { initialFleetState } from '../../fleet/state.ts';
import { type Figure, verdict } from '../figure.ts';
import { formatNumber, formatSpread, spreadOf } from '../stats.ts';

const NODES = 10_000;
const VANTAGE_POINTS = 3;
const TARGET_MS = 50;
const ROUND_MS = 5000;
const T0_MS = 1_800_000_000_000;
/** Distinct probe patterns replayed with new round numbers, so that state keeps changing a little. */
const PATTERNS = 4;
/** One node in this many fails each round, at a place that moves with the pattern. */
const FAILING_ONE_IN = 37;

function syntheticConfig(): FleetConfig {
  const locations: Record<string, { region: 'eu-central-1' }> = {};
  const nodes = Array.from({ length: NODES }, (_, index) => {
    const location = `loc-${String(Math.floor(index / 100)).padStart(3, '0')}`;
    locations[location] = { region: 'eu-central-1' };
    return { id: `store-${String(index % 100).padStart(2, '0')}.${location}.bench.test`, location };
  });
  return parseFleetConfig({
    fleet: 'bench.test',
    clusterId: 16,
    shards: [1],
    locations,
    nodes,
    vantagePoints: Array.from({ length: VANTAGE_POINTS }, (_, index) => ({
      id: `vp-${String.fromCharCode(97 + index)}`,
      region: 'eu-central-1',
    })),
    probe: { contentTopics: ['/storefleet/1/probe/proto'] },
    failover: { minHealthy: 2 },
  });
}

function probeRounds(config: FleetConfig, variant: number): ProbeRound[] {
  const startedAtMs = T0_MS;
  return config.vantagePoints.map((vantage) => ({
    vantageId: vantage.id,
    round: 0,
    startedAtMs,
    finishedAtMs: startedAtMs + 1000,
    results: config.nodes.flatMap((node, index): ProbeResult[] => {
      const base = { nodeId: node.id, vantageId: vantage.id, startedAtMs };
      const hash = (index * 31 + variant * 7) % FAILING_ONE_IN;
      if (hash === 0) {
        return [
          { ...base, kind: 'ping', ok: false, errorClass: 'timeout' },
          { ...base, kind: 'store', ok: false, errorClass: 'timeout' },
        ];
      }
      return [
        { ...base, kind: 'ping', ok: true, latencyMs: 10 + hash * 3 },
        {
          ...base,
          kind: 'store',
          ok: true,
          latencyMs: 30,
          statusCode: 200,
          newestMessageAgeMs: 1000 + hash * 100,
        },
      ];
    }),
  }));
}

export const controllerFigure: Figure = {
  id: 'controller',
  number: 5,
  title: 'Controller round, 10,000 nodes x 3 vantage points',
  async run({ quick, log }) {
    const warmUp = quick ? 5 : 10;
    const timed = quick ? 15 : 60;
    const config = syntheticConfig();
    const patterns = Array.from({ length: PATTERNS }, (_, variant) => probeRounds(config, variant));
    let state = initialFleetState(config);
    const wallMs: number[] = [];
    const cpuMs: number[] = [];
    let listed = 0;
    for (let round = 1; round <= warmUp + timed; round++) {
      const rounds = (patterns[round % PATTERNS] as ProbeRound[]).map((report) => ({
        ...report,
        round,
        startedAtMs: T0_MS + round * ROUND_MS,
        finishedAtMs: T0_MS + round * ROUND_MS + 1000,
      }));
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const result = runControllerRound({
        config,
        state,
        round,
        nowMs: T0_MS + round * ROUND_MS,
        probeRounds: rounds,
      });
      const elapsed = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      if (round > warmUp) {
        wallMs.push(elapsed);
        cpuMs.push((cpu.user + cpu.system) / 1000);
      }
      state = result.state;
      listed = result.listedNodeIds.length;
    }
    const wall = spreadOf(wallMs);
    const cpu = spreadOf(cpuMs);
    log(`controller: median ${wall.p50.toFixed(1)} ms, p90 ${wall.p90.toFixed(1)} ms`);
    return {
      rows: [
        {
          figure: '5. Controller round, 10k nodes x 3 VPs (wall ms, lower is better)',
          storefleet: `${formatSpread(wall, 'ms')}; p90 ${formatNumber(wall.p90)} ms`,
          peer: '-',
          ratio: '-',
          target: `median <= ${TARGET_MS} ms`,
          met: verdict(wall.p50 <= TARGET_MS),
        },
      ],
      notes: [
        `Controller: ${warmUp} warm-up rounds then ${timed} timed rounds of runControllerRound on ${NODES} nodes x ${VANTAGE_POINTS} vantage points (1 node in ${FAILING_ONE_IN} failing, ${PATTERNS} probe patterns replayed). CPU per round: median ${formatNumber(cpu.p50)} ms, p90 ${formatNumber(cpu.p90)} ms. The last round listed ${listed} nodes.`,
      ],
      raw: { nodes: NODES, vantagePoints: VANTAGE_POINTS, warmUp, timed, wallMs, cpuMs, wall, cpu },
    };
  },
};
