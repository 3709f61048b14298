// `storefleet stress`: an open-model stress test of one node, or a calibration of this machine's load generator.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { StressReport } from '../../../probes/stress/run-stress.ts';
import type { StressTarget } from '../../../probes/stress/stress-targets.ts';
import type { StoreQuery } from '../../../waku/client/store-types.ts';
import { drainedGuardFromState, withDialer } from './fetching.ts';
import {
  collect,
  DEFAULT_CLUSTER_ID,
  DEFAULT_LOCAL_STATE_DB,
  ProbeUsageError,
  parseDurationSeconds,
  parsePositiveInteger,
  parseStressFlags,
  resolveProbeSettings,
  STRESS_QUERY_PAGE_SIZE,
  STRESS_QUERY_WINDOW_SECONDS,
  type StressOptions,
} from './flags.ts';
import { progressReporter } from './progress.ts';
import { formatStressReport } from './tables.ts';

async function calibrate(options: StressOptions & { json?: boolean }): Promise<void> {
  const workers =
    options.workers === undefined ? 0 : parsePositiveInteger(options.workers, '--workers');
  const connections = parsePositiveInteger(options.connections ?? '50', '--connections');
  const durationSeconds = parseDurationSeconds(options.duration ?? '3s', '--duration');
  const { measureGeneratorCapacity } = await import('../../../probes/stress/generator-capacity.ts');
  const { systemClock } = await import('../../../probes/clock.ts');
  const capacity = await measureGeneratorCapacity({
    workers,
    connections,
    durationSeconds,
    clock: systemClock,
    onStep: (step) => {
      if (options.json) return;
      console.error(
        `${step.targetRatePerSecond}/s: answered ${step.achievedRatePerSecond.toFixed(0)}/s, dropped ${step.dropped}, late ${step.lateSends}, p50 ${step.p50Ms.toFixed(2)} ms, p99 ${step.p99Ms.toFixed(2)} ms${step.busyMicrosPerRequest === undefined ? '' : `, ${step.busyMicrosPerRequest.toFixed(0)} µs busy/request`}${step.keptUp ? '' : ' (fell behind)'}`,
      );
    },
  });
  console.log(
    options.json
      ? JSON.stringify(capacity, null, 2)
      : `generator ceiling: ${capacity.maxRatePerSecond}/s over REST with ${workers === 0 ? 'this thread' : `${workers} worker threads`} and ${connections} connections`,
  );
}

export function registerStressCommand(program: Command): void {
  program
    .command('stress')
    .description(
      'Open-model stress test of one node: constant arrival rate, latency from intended send time, drops counted',
    )
    .option('--target <addr>', 'multiaddr of the node (or its REST URL with --rest)')
    .option('--rate <n>', 'requests per second')
    .option('--duration <time>', 'how long to send, e.g. 30s or 2m', '30s')
    .option('--connections <n>', 'connections (REST) or concurrent streams (libp2p) at most', '50')
    .option('--rest', 'query over REST instead of libp2p store v3')
    .option('--request-timeout <time>', 'give up on one request after this long (default 5s)')
    .option('--node-id <id>', 'name of the node in reports (default: the target)')
    .option('--config <file>', 'fleet config: caps (stress.*), cluster and content topics')
    .option(
      '--state <file>',
      `controller state; nodes it has drained are refused (default ${DEFAULT_LOCAL_STATE_DB} when present)`,
    )
    .option('--cluster-id <n>', `cluster id without a config (default ${DEFAULT_CLUSTER_ID})`)
    .option('--shard <n>', 'shard the fleet relays (repeatable)', collect)
    .option('--content-topic <topic>', 'content topic to query (repeatable)', collect)
    .option(
      '--workers <n>',
      'REST only: generate the load in N worker threads (default: as many as the rate needs)',
    )
    .option(
      '--calibrate',
      "measure this machine's own generator ceiling against a canned loopback server instead",
    )
    .option('--json', 'print the full report as JSON')
    .option('--report <file>', 'write a self-contained HTML report here')
    .action(async (options: StressOptions) => {
      if (options.calibrate) {
        await calibrate(options);
        return;
      }
      const flags = parseStressFlags(options);
      const settings = await resolveProbeSettings(options);
      const { runStress, checkStressLimits } = await import('../../../probes/stress/run-stress.ts');
      const flagNames = { rate: '--rate', duration: '--duration', connections: '--connections' };
      const request = {
        nodeId: options.nodeId ?? flags.target,
        ratePerSecond: flags.ratePerSecond,
        durationSeconds: flags.durationSeconds,
        connections: flags.connections,
        ...(flags.requestTimeoutMs === undefined
          ? {}
          : { requestTimeoutMs: flags.requestTimeoutMs }),
      };
      // Refuse before importing libp2p or opening anything.
      checkStressLimits(request, settings.stress, flagNames);
      const { systemClock } = await import('../../../probes/clock.ts');
      const targets = await import('../../../probes/stress/stress-targets.ts');
      const query: StoreQuery = {
        includeData: true,
        pubsubTopic: settings.pubsubTopic,
        contentTopics: [...settings.probe.contentTopics],
        timeStartNs: BigInt(Date.now() - STRESS_QUERY_WINDOW_SECONDS * 1000) * 1_000_000n,
        forward: false,
        pageSize: STRESS_QUERY_PAGE_SIZE,
      };
      const isDrained = await drainedGuardFromState(options.state);
      if (isDrained(request.nodeId)) {
        throw new ProbeUsageError(
          `--node-id: ${request.nodeId} is not listed by the controller (drained, replacing, in probation or escalated); stress tests never target such a node`,
        );
      }
      const interrupt = new AbortController();
      const onSigint = () => interrupt.abort('interrupted');
      process.once('SIGINT', onSigint);
      const progress = await progressReporter(
        Math.floor(flags.ratePerSecond * flags.durationSeconds),
      );
      const run = async (target: StressTarget): Promise<StressReport> =>
        runStress(
          {
            target,
            clock: systemClock,
            isDrained,
            onProgress: progress.update,
            signal: interrupt.signal,
          },
          request,
          settings.stress,
          flagNames,
        );
      let report: StressReport;
      try {
        if (options.rest) {
          const { restWorkersStressTarget, workersFor } = await import(
            '../../../probes/stress/worker-load.ts'
          );
          const workers =
            options.workers === undefined
              ? workersFor(flags.ratePerSecond)
              : parsePositiveInteger(options.workers, '--workers');
          const target =
            workers > 1
              ? restWorkersStressTarget(flags.target, query, {
                  connections: flags.connections,
                  workers,
                })
              : targets.restStressTarget(flags.target, query, { connections: flags.connections });
          try {
            report = await run(target);
          } finally {
            await target.close();
          }
        } else {
          report = await withDialer(settings, (dialer) =>
            run(
              targets.libp2pStressTarget(dialer, flags.target, query, {
                maxResponseBytes: settings.probe.maxResponseBytes,
              }),
            ),
          );
        }
      } finally {
        progress.stop();
        process.removeListener('SIGINT', onSigint);
      }
      if (options.report !== undefined) {
        const { renderStressReportHtml } = await import('../../../probes/stress/report-html.ts');
        await writeFile(options.report, renderStressReportHtml(report));
      }
      console.log(options.json ? JSON.stringify(report, null, 2) : formatStressReport(report));
      if (options.report !== undefined && !options.json) console.log(`report: ${options.report}`);
      if (!report.summary.sloMet) process.exitCode = 1;
    });
}
