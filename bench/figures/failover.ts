// Figure 1: kill a node of the local fleet, time until it leaves the served fleets.json and until a polling client sees it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../fleet/config.ts';
import { type Figure, type FigureRow, notMeasured, verdict } from '../figure.ts';
import { formatNumber, spreadOf } from '../stats.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const GONE_TARGET_P95_S = 12;
const CLIENT_TARGET_P95_S = 20;
/** How often the bench looks at the served file to time the moment a node leaves it. */
const TIGHT_POLL_MS = 100;
const STORE_KIND = 'tcp/p2p/waku/store';
const START_TIMEOUT_MS = 90_000;
const SETTLE_TIMEOUT_MS = 60_000;
/** A killed node not gone after this long counts as a miss (and ends the figure). */
const GONE_TIMEOUT_MS = 60_000;
/** Before each kill: the target back and listed, few others out; waiting beyond this ends the figure. */
const READY_TIMEOUT_MS = 120_000;
const HTTP_TIMEOUT_MS = 2000;

interface Listing {
  etag: string;
  listed: string[];
}

interface KillTiming {
  nodeId: string;
  roundAtKill: number;
  goneMs: number | null;
  clientMs: number | null;
  roundsToGone: number | null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function fetchListing(
  url: string,
  fleet: string,
  previous: Listing | undefined,
): Promise<Listing> {
  const response = await fetch(url, {
    headers: previous?.etag ? { 'if-none-match': previous.etag } : {},
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  if (response.status === 304 && previous) {
    await response.body?.cancel();
    return previous;
  }
  if (!response.ok) throw new Error(`GET fleets.json answered ${response.status}`);
  const document = (await response.json()) as {
    fleets: Record<string, Record<string, Record<string, string>>>;
  };
  return {
    etag: response.headers.get('etag') ?? '',
    listed: Object.keys(document.fleets[fleet]?.[STORE_KIND] ?? {}),
  };
}

/** Polls until `condition` holds; false on timeout. */
async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  stepMs = 100,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (condition()) return true;
    await sleep(stepMs);
  }
  return condition();
}

export const failoverFigure: Figure = {
  id: 'failover',
  number: 1,
  title: 'Failover: kill -> gone from fleets.json, kill -> a polling client sees it',
  async run({ quick, log }) {
    const kills = quick ? 3 : 10;
    // Quick mode kills back to back; the full run lets at most one other node be out, so that
    // every kill starts from a nearly whole fleet.
    const maxOthersOut = quick ? 2 : 1;
    const figureGone = '1. Failover: kill -> gone from served fleets.json (s)';
    const figureClient = '1. Failover: kill -> If-None-Match client sees it (s)';
    let Orchestrator: typeof import('../../local/orchestrator.ts').Orchestrator;
    try {
      ({ Orchestrator } = await import('../../local/orchestrator.ts'));
    } catch (error) {
      const reason = `local orchestrator unusable (${String(error).split('\n')[0]})`;
      return {
        rows: [
          notMeasured(figureGone, `p95 <= ${GONE_TARGET_P95_S} s`, reason),
          notMeasured(figureClient, `p95 <= ${CLIENT_TARGET_P95_S} s`, reason),
        ],
        notes: [],
        raw: { error: String(error) },
      };
    }
    const config = parseFleetConfig(
      JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8')),
    );
    const dataDir = mkdtempSync(join(tmpdir(), 'storefleet-bench-fleet-'));
    const consoleLines: string[] = [];
    const timings: KillTiming[] = [];
    let stopPolling = false;
    let fleet: Awaited<ReturnType<typeof Orchestrator.start>> | undefined;
    let problem: string | undefined;
    let clientIntervalMs = config.registry.cacheMaxAgeSeconds * 1000;
    try {
      const started = performance.now();
      fleet = await Orchestrator.start({
        config,
        dataDir,
        port: 0,
        reset: true,
        log: (line) => consoleLines.push(line),
      });
      const fleetsUrl = `${fleet.url}/fleets.json`;
      const head = await fetch(fleetsUrl);
      await head.body?.cancel();
      const maxAge = /max-age=(\d+)/.exec(head.headers.get('cache-control') ?? '')?.[1];
      if (maxAge !== undefined) clientIntervalMs = Number(maxAge) * 1000;

      // The bench's own view: the served file, looked at every TIGHT_POLL_MS.
      let served: Listing | undefined;
      const goneAt = new Map<string, number>();
      const tight = (async () => {
        while (!stopPolling) {
          try {
            const next = await fetchListing(fleetsUrl, config.fleet, served);
            const now = performance.now();
            for (const id of served?.listed ?? []) {
              if (!next.listed.includes(id) && !goneAt.has(id)) goneAt.set(id, now);
            }
            served = next;
          } catch {
            // The next look will tell.
          }
          await sleep(TIGHT_POLL_MS);
        }
      })();
      // A client as Status would run it: one conditional GET per max-age.
      let clientView: Listing | undefined;
      const clientSawGone = new Map<string, number>();
      const client = (async () => {
        while (!stopPolling) {
          try {
            const next = await fetchListing(fleetsUrl, config.fleet, clientView);
            const now = performance.now();
            for (const id of clientView?.listed ?? []) {
              if (!next.listed.includes(id) && !clientSawGone.has(id)) clientSawGone.set(id, now);
            }
            clientView = next;
          } catch {
            // The next poll will tell.
          }
          await sleep(clientIntervalMs);
        }
      })();

      const pendingClient = new Map<string, { timing: KillTiming; killedAt: number }>();
      const finishClient = (nodeId: string) => {
        const pending = pendingClient.get(nodeId);
        if (pending === undefined) return;
        const seenAt = clientSawGone.get(nodeId);
        pending.timing.clientMs = seenAt === undefined ? null : seenAt - pending.killedAt;
        pendingClient.delete(nodeId);
      };
      const ids = config.nodes.map((node) => node.id);
      const allListed = () =>
        served !== undefined && ids.every((id) => served?.listed.includes(id));
      if (!(await waitUntil(allListed, START_TIMEOUT_MS))) {
        throw new Error(
          `not all ${ids.length} nodes listed within ${START_TIMEOUT_MS / 1000} s of start`,
        );
      }
      // Two clean rounds: the start-up burst is over.
      const settledFrom = fleet.round;
      await waitUntil(() => {
        const snapshot = fleet?.snapshot();
        return (
          snapshot !== undefined &&
          snapshot.round >= settledFrom + 2 &&
          snapshot.nodes.every((node) => node.lastError === null)
        );
      }, SETTLE_TIMEOUT_MS);
      log(
        `failover: fleet of ${ids.length} up and listed after ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );

      for (let kill = 0; kill < kills; kill++) {
        const nodeId = ids[kill % ids.length] as string;
        const ready = await waitUntil(() => {
          const listed = served?.listed ?? [];
          const othersOut = ids.filter((id) => id !== nodeId && !listed.includes(id)).length;
          return (
            listed.includes(nodeId) &&
            fleet?.state.nodes[nodeId]?.status === 'active' &&
            othersOut <= maxOthersOut
          );
        }, READY_TIMEOUT_MS);
        if (!ready) {
          problem = `${nodeId} was not back and listed within ${READY_TIMEOUT_MS / 1000} s before kill ${kill + 1}`;
          break;
        }
        // A node killed before must have had its earlier kill seen by the client (it was back since).
        finishClient(nodeId);
        goneAt.delete(nodeId);
        clientSawGone.delete(nodeId);
        const roundAtKill = fleet.round;
        const killedAt = performance.now();
        await fleet.chaos({ action: 'kill', nodeId });
        const gone = await waitUntil(() => goneAt.has(nodeId), GONE_TIMEOUT_MS, 50);
        const timing: KillTiming = {
          nodeId,
          roundAtKill,
          goneMs: gone ? (goneAt.get(nodeId) as number) - killedAt : null,
          clientMs: null,
          roundsToGone: gone ? fleet.round - roundAtKill : null,
        };
        timings.push(timing);
        // The client's view is collected later: the next kill need not wait for its next poll.
        pendingClient.set(nodeId, { timing, killedAt });
        log(
          `failover: kill ${kill + 1}/${kills} ${nodeId}: gone ${timing.goneMs === null ? 'never' : `${(timing.goneMs / 1000).toFixed(1)} s`}`,
        );
        if (!gone) {
          problem = `${nodeId} was still listed ${GONE_TIMEOUT_MS / 1000} s after its kill`;
          break;
        }
      }
      await waitUntil(
        () => [...pendingClient.keys()].every((id) => clientSawGone.has(id)),
        clientIntervalMs + 2 * HTTP_TIMEOUT_MS,
      );
      for (const id of [...pendingClient.keys()]) finishClient(id);
      stopPolling = true;
      await Promise.all([tight, client]);
    } catch (error) {
      problem = String(error).split('\n')[0];
    } finally {
      stopPolling = true;
      await fleet?.stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }

    // A kill whose node never left counts as infinitely slow: percentiles must not hide it.
    const goneSeconds = timings.map((t) =>
      t.goneMs === null ? Number.POSITIVE_INFINITY : t.goneMs / 1000,
    );
    const clientSeconds = timings.map((t) =>
      t.clientMs === null ? Number.POSITIVE_INFINITY : t.clientMs / 1000,
    );
    const describe = (values: number[]) => {
      const finite = values.filter(Number.isFinite);
      const spread = spreadOf(finite);
      const misses = values.length - finite.length;
      return {
        spread,
        misses,
        text: `p50 ${formatNumber(spread.p50)} s, p95 ${formatNumber(spread.p95)} s (min-max ${formatNumber(spread.min)}-${formatNumber(spread.max)}, n=${finite.length}${misses ? `, ${misses} never` : ''})`,
      };
    };
    const rows: FigureRow[] = [];
    if (timings.length === 0) {
      const reason = problem ?? 'no kill completed';
      rows.push(notMeasured(figureGone, `p95 <= ${GONE_TARGET_P95_S} s`, reason));
      rows.push(notMeasured(figureClient, `p95 <= ${CLIENT_TARGET_P95_S} s`, reason));
    } else {
      const gone = describe(goneSeconds);
      const seen = describe(clientSeconds);
      rows.push({
        figure: `${figureGone}, ${config.probe.intervalSeconds} s interval`,
        storefleet: gone.text,
        peer: '-',
        ratio: '-',
        target: `p95 <= ${GONE_TARGET_P95_S} s`,
        met: verdict(
          gone.misses === 0 && gone.spread.p95 <= GONE_TARGET_P95_S && timings.length >= kills,
        ),
      });
      rows.push({
        figure: `${figureClient}, polling every ${clientIntervalMs / 1000} s`,
        storefleet: seen.text,
        peer: '-',
        ratio: '-',
        target: `p95 <= ${CLIENT_TARGET_P95_S} s`,
        met: verdict(
          seen.misses === 0 && seen.spread.p95 <= CLIENT_TARGET_P95_S && timings.length >= kills,
        ),
      });
    }
    const rounds = timings.map((t) => t.roundsToGone).filter((r): r is number => r !== null);
    return {
      rows,
      notes: [
        `Failover: \`Orchestrator.start\` (local/orchestrator.ts) in the figure's process with config/fleet.example.json as is (6 nodes in their own processes, 3 vantage points, ${config.probe.intervalSeconds} s interval, ${config.failover.failuresBeforeDrain} failed rounds before a drain, quorum ${config.failover.quorum}); each kill is the orchestrator's chaos kill (SIGKILL of the node process), ${timings.length} of ${kills} planned, cycling through the nodes, each when the target was back, active and listed and at most ${maxOthersOut} other node(s) were out. "Gone": the bench reads the served fleets.json every ${TIGHT_POLL_MS} ms (conditional GET). "Client": one client polling with If-None-Match every max-age (${clientIntervalMs / 1000} s, from the served Cache-Control), its phase independent of the kills, so it adds 0-${clientIntervalMs / 1000} s. Probe rounds from kill to gone: ${rounds.join(', ') || 'none'}.${problem ? ` Stopped early: ${problem}.` : ''}`,
      ],
      raw: {
        kills,
        maxOthersOut,
        clientIntervalMs,
        timings,
        problem,
        consoleTail: consoleLines.slice(-40),
      },
    };
  },
};
