// Figure 3: fresh-connection libp2p pings per second per core, storefleet's dialer vs a bare js-libp2p loop, same local node.
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { ownCpuMs, processCpuMs } from '../cpu.ts';
import { type Figure, runAlternating, verdict } from '../figure.ts';
import { startLocalNode } from '../local-node.ts';
import { formatNumber, formatRatio, formatSpread, spreadOf } from '../stats.ts';

const TARGET_RATIO = 0.8;
/** The 4 s a go-waku client gives a ping; loopback answers in milliseconds. */
const PING_TIMEOUT_MS = 4000;

interface Side {
  probesPerSecond: number;
  /** Probes per CPU-second of the prober process: per core. */
  probesPerCoreSecond: number;
  cpuMsPerProbe: number;
  failed: number;
  nodeCpuMsPerProbe: number;
}

/** One probe after another for `durationMs`, each on a connection of its own. */
async function loop(
  durationMs: number,
  nodePid: number,
  probe: () => Promise<void>,
): Promise<Side> {
  let ok = 0;
  let failed = 0;
  const nodeCpuBefore = processCpuMs(nodePid);
  const cpuBefore = ownCpuMs();
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    try {
      await probe();
      ok++;
    } catch {
      failed++;
    }
  }
  const elapsedMs = performance.now() - started;
  const cpuMs = ownCpuMs() - cpuBefore;
  const probes = Math.max(1, ok + failed);
  return {
    probesPerSecond: (ok * 1000) / elapsedMs,
    probesPerCoreSecond: (ok * 1000) / Math.max(1, cpuMs),
    cpuMsPerProbe: cpuMs / probes,
    failed,
    nodeCpuMsPerProbe: (processCpuMs(nodePid) - nodeCpuBefore) / probes,
  };
}

async function measureDialer(address: string, durationMs: number, nodePid: number): Promise<Side> {
  const dialer = await createProbeDialer({ clusterId: 16, shards: [1, 32] });
  try {
    const probe = async () => {
      await dialer.ping(address, { signal: AbortSignal.timeout(PING_TIMEOUT_MS), fresh: true });
    };
    await loop(300, nodePid, probe);
    return await loop(durationMs, nodePid, probe);
  } finally {
    await dialer.stop();
  }
}

/** libp2p + tcp + noise + yamux + ping and nothing else: dial, ping, close. */
async function measureBareLibp2p(
  address: string,
  durationMs: number,
  nodePid: number,
): Promise<Side> {
  const node = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { ping: ping() },
  });
  const target = multiaddr(address);
  try {
    const probe = async () => {
      const signal = AbortSignal.timeout(PING_TIMEOUT_MS);
      const connection = await node.dial(target, { signal, force: true });
      try {
        await node.services.ping.ping(connection.remotePeer, { signal });
      } finally {
        await connection.close();
      }
    };
    await loop(300, nodePid, probe);
    return await loop(durationMs, nodePid, probe);
  } finally {
    await node.stop();
  }
}

export const libp2pPingFigure: Figure = {
  id: 'ping',
  number: 3,
  title: 'libp2p fresh ping probes vs bare js-libp2p',
  async run({ quick, log }) {
    const repeats = quick ? 2 : 5;
    const durationMs = quick ? 1500 : 5000;
    const node = await startLocalNode();
    try {
      const ours: Side[] = [];
      const peer: Side[] = [];
      for (let repeat = 0; repeat < repeats; repeat++) {
        const runOurs = async () => {
          ours.push(await measureDialer(node.tcpAddress, durationMs, node.pid));
        };
        const runPeer = async () => {
          peer.push(await measureBareLibp2p(node.tcpAddress, durationMs, node.pid));
        };
        await runAlternating(repeat, runOurs, runPeer);
        const o = ours.at(-1) as Side;
        const p = peer.at(-1) as Side;
        log(
          `ping: repeat ${repeat + 1}/${repeats}: ours ${o.probesPerCoreSecond.toFixed(0)}/core-s (${o.probesPerSecond.toFixed(0)}/s); bare ${p.probesPerCoreSecond.toFixed(0)}/core-s (${p.probesPerSecond.toFixed(0)}/s)`,
        );
      }
      const perCore = (sides: Side[]) => spreadOf(sides.map((s) => s.probesPerCoreSecond));
      const cpu = (sides: Side[]) => spreadOf(sides.map((s) => s.cpuMsPerProbe));
      const wall = (sides: Side[]) => spreadOf(sides.map((s) => s.probesPerSecond));
      const ratio = spreadOf(
        ours.map((o, i) => o.probesPerCoreSecond / (peer[i] as Side).probesPerCoreSecond),
      );
      const wallRatio = spreadOf(
        ours.map((o, i) => o.probesPerSecond / (peer[i] as Side).probesPerSecond),
      );
      const nodeCpu = (sides: Side[]) => spreadOf(sides.map((s) => s.nodeCpuMsPerProbe)).p50;
      return {
        rows: [
          {
            figure: '3. libp2p ping probes/s per core (fresh connection + ping, secp256k1 node)',
            storefleet: `${formatSpread(perCore(ours), '/core-s')}; CPU ${formatNumber(cpu(ours).p50)} ms/probe`,
            peer: `bare js-libp2p ${formatSpread(perCore(peer), '/core-s')}; CPU ${formatNumber(cpu(peer).p50)} ms/probe`,
            ratio: formatRatio(ratio),
            target: `>= ${TARGET_RATIO}x`,
            met: verdict(ratio.p50 >= TARGET_RATIO),
          },
        ],
        notes: [
          `libp2p ping: one probe after another for ${durationMs / 1000} s against the same local store node (its own process, secp256k1 key, TCP + noise + yamux), ${repeats} alternating repeats after a 0.3 s warm-up each; per core = successful probes per CPU-second of the prober process (process.cpuUsage). Ours: \`createProbeDialer().ping(addr, { fresh: true })\` (identify off). Peer: libp2p 3 with tcp, noise, yamux and @libp2p/ping only: \`dial(addr, { force: true })\`, \`ping\`, \`close\`. Wall rate: ours ${formatSpread(wall(ours), '/s')}, bare ${formatSpread(wall(peer), '/s')} (ratio ${formatRatio(wallRatio)}); the node's CPU per probe: ours ${formatNumber(nodeCpu(ours))} ms, bare ${formatNumber(nodeCpu(peer))} ms. Failed probes: ours ${ours.reduce((a, s) => a + s.failed, 0)}, bare ${peer.reduce((a, s) => a + s.failed, 0)}.`,
        ],
        raw: { durationMs, repeats, ours, peer, ratio, wallRatio },
      };
    } finally {
      await node.stop();
    }
  },
};
