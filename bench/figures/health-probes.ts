// Figure 2: REST health probes per second and CPU per probe, storefleet's health() client vs Prometheus blackbox_exporter, same endpoint.
import { health } from '../../waku/client/rest.ts';
import { ownCpuMs, processCpuMs } from '../cpu.ts';
import { PROBE_TIMEOUT_MS, startBlackboxExporter } from '../exporter.ts';
import { type Figure, runAlternating, verdict } from '../figure.ts';
import { startLocalNode } from '../local-node.ts';
import { formatNumber, formatRatio, formatSpread, spreadOf } from '../stats.ts';
import { runWrk } from '../wrk.ts';

/** probe.concurrency of config/fleet.example.json: how many probes a round keeps in flight. */
const CONCURRENCY = 16;
const TARGET_RATIO = 1.0;

interface Side {
  probesPerSecond: number;
  cpuMsPerProbe: number;
  failed: number;
  nodeCpuMsPerProbe: number;
}

/**
 * A probe round every 5 s finds the pooled connection of the previous round gone (fetch keeps idle
 * connections 4 s), so each of its probes opens a connection. A `Connection: close` header,
 * added here around the unchanged health() client, gives every probe that fresh connection.
 */
async function withFreshConnections<T>(work: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) =>
    original(input, {
      ...init,
      headers: { ...(init?.headers as Record<string, string> | undefined), connection: 'close' },
    });
  try {
    return await work();
  } finally {
    globalThis.fetch = original;
  }
}

/** Probes the way a round does: `CONCURRENCY` in flight, each under its own deadline. */
async function probeWithHealthClient(
  restUrl: string,
  durationMs: number,
  nodePid: number,
  fresh: boolean,
): Promise<Side> {
  if (fresh)
    return withFreshConnections(() => probeWithHealthClient(restUrl, durationMs, nodePid, false));
  let ok = 0;
  let failed = 0;
  const nodeCpuBefore = processCpuMs(nodePid);
  const cpuBefore = ownCpuMs();
  const started = performance.now();
  const stopAt = started + durationMs;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < stopAt) {
        try {
          const report = await health(restUrl, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
          if (report.nodeHealth === 'READY') ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const cpuMs = ownCpuMs() - cpuBefore;
  return {
    probesPerSecond: (ok * 1000) / elapsedMs,
    cpuMsPerProbe: cpuMs / Math.max(1, ok + failed),
    failed,
    nodeCpuMsPerProbe: (processCpuMs(nodePid) - nodeCpuBefore) / Math.max(1, ok + failed),
  };
}

export const healthProbesFigure: Figure = {
  id: 'health',
  number: 2,
  title: 'HTTP health probes vs blackbox_exporter',
  async run({ quick, log }) {
    const repeats = quick ? 2 : 5;
    const durationSeconds = quick ? 1 : 4;
    const node = await startLocalNode();
    const exporter = await startBlackboxExporter();
    try {
      const target = `${node.restUrl}/health`;
      const check = await (await fetch(exporter.probeUrl(target))).text();
      if (!/^probe_success 1$/m.test(check)) {
        throw new Error(`blackbox_exporter cannot probe ${target}:\n${check.slice(0, 500)}`);
      }
      // Warm-up: JIT, connection pools and the node's first answers.
      await probeWithHealthClient(node.restUrl, 500, node.pid, true);
      await probeWithHealthClient(node.restUrl, 500, node.pid, false);
      if (!quick) {
        await runWrk(exporter.probeUrl(target), { connections: CONCURRENCY, durationSeconds: 1 });
      }
      const ours: Side[] = [];
      const pooled: Side[] = [];
      const peer: Side[] = [];
      for (let repeat = 0; repeat < repeats; repeat++) {
        const runOurs = async () => {
          ours.push(
            await probeWithHealthClient(node.restUrl, durationSeconds * 1000, node.pid, true),
          );
          pooled.push(
            await probeWithHealthClient(node.restUrl, durationSeconds * 1000, node.pid, false),
          );
        };
        const runPeer = async () => {
          const exporterBefore = processCpuMs(exporter.pid);
          const nodeBefore = processCpuMs(node.pid);
          const result = await runWrk(exporter.probeUrl(target), {
            connections: CONCURRENCY,
            durationSeconds,
          });
          const probes = Math.max(1, result.requests);
          peer.push({
            probesPerSecond: result.requestsPerSecond,
            cpuMsPerProbe: (processCpuMs(exporter.pid) - exporterBefore) / probes,
            failed: result.non2xx + result.socketErrors,
            nodeCpuMsPerProbe: (processCpuMs(node.pid) - nodeBefore) / probes,
          });
        };
        await runAlternating(repeat, runOurs, runPeer);
        const o = ours.at(-1) as Side;
        const q = pooled.at(-1) as Side;
        const p = peer.at(-1) as Side;
        log(
          `health: repeat ${repeat + 1}/${repeats}: ours ${o.probesPerSecond.toFixed(0)}/s ${o.cpuMsPerProbe.toFixed(3)} ms cpu (pooled ${q.probesPerSecond.toFixed(0)}/s ${q.cpuMsPerProbe.toFixed(3)} ms); blackbox ${p.probesPerSecond.toFixed(0)}/s ${p.cpuMsPerProbe.toFixed(3)} ms cpu`,
        );
      }
      const rate = (sides: Side[]) => spreadOf(sides.map((s) => s.probesPerSecond));
      const cpu = (sides: Side[]) => spreadOf(sides.map((s) => s.cpuMsPerProbe));
      const rateRatio = spreadOf(
        ours.map((o, i) => o.probesPerSecond / (peer[i] as Side).probesPerSecond),
      );
      const cpuRatio = spreadOf(
        ours.map((o, i) => (peer[i] as Side).cpuMsPerProbe / o.cpuMsPerProbe),
      );
      const nodeCpu = (sides: Side[]) => spreadOf(sides.map((s) => s.nodeCpuMsPerProbe)).p50;
      const pooledRateRatio = spreadOf(
        pooled.map((o, i) => o.probesPerSecond / (peer[i] as Side).probesPerSecond),
      );
      const pooledCpuRatio = spreadOf(
        pooled.map((o, i) => (peer[i] as Side).cpuMsPerProbe / o.cpuMsPerProbe),
      );
      return {
        rows: [
          {
            figure:
              '2. HTTP health probes/s, new connection per probe (same /health, 16 in flight)',
            storefleet: formatSpread(rate(ours), '/s'),
            peer: `blackbox_exporter ${formatSpread(rate(peer), '/s')}`,
            ratio: formatRatio(rateRatio),
            target: `>= ${TARGET_RATIO.toFixed(1)}x`,
            met: verdict(rateRatio.p50 >= TARGET_RATIO),
          },
          {
            figure:
              '2. CPU per HTTP health probe, new connection (prober process; ratio = peer / ours)',
            storefleet: formatSpread(cpu(ours), 'ms'),
            peer: `blackbox_exporter ${formatSpread(cpu(peer), 'ms')}`,
            ratio: formatRatio(cpuRatio),
            target: `>= ${TARGET_RATIO.toFixed(1)}x`,
            met: verdict(cpuRatio.p50 >= TARGET_RATIO),
          },
          {
            figure: '2. (context) same, health() on pooled keep-alive connections: probes/s; CPU',
            storefleet: `${formatSpread(rate(pooled), '/s')}; ${formatSpread(cpu(pooled), 'ms')}`,
            peer: 'blackbox_exporter (as above)',
            ratio: `${formatRatio(pooledRateRatio)}; ${formatRatio(pooledCpuRatio)}`,
            target: 'report only',
            met: 'n/a',
          },
        ],
        notes: [
          `Health probes: both sides probe the same local store node's REST \`/health\` (its own process) with ${CONCURRENCY} probes in flight for ${durationSeconds} s, ${repeats} alternating repeats; ratios are per repeat, then the median. Ours: \`health()\` from waku/client/rest.ts as a probe round calls it (fetch, keep-alive pool, zod-checked JSON, ${PROBE_TIMEOUT_MS} ms deadline); CPU from process.cpuUsage of the probing process. Peer: blackbox_exporter's http_2xx module (status 200 required, ${PROBE_TIMEOUT_MS / 1000} s timeout), its /probe driven by wrk with ${CONCURRENCY} connections; CPU of the exporter process from /proc/<pid>/stat (wrk's own CPU not counted). The exporter opens a new connection per probe. A round every 5 s finds fetch's pooled connection of the previous round closed (idle limit 4 s), so the headline rows give health() a new connection per probe too (a \`Connection: close\` header added around the unchanged client); the context row lets it reuse pooled connections, as probes within one burst do. Node CPU per probe (context): ours ${formatNumber(nodeCpu(ours))} ms, blackbox ${formatNumber(nodeCpu(peer))} ms. Failed probes: ours ${ours.reduce((a, s) => a + s.failed, 0)}, blackbox ${peer.reduce((a, s) => a + s.failed, 0)}.`,
        ],
        raw: {
          concurrency: CONCURRENCY,
          durationSeconds,
          repeats,
          ours,
          pooled,
          peer,
          rateRatio,
          cpuRatio,
          pooledRateRatio,
          pooledCpuRatio,
        },
      };
    } finally {
      await exporter.stop();
      await node.stop();
    }
  },
};
