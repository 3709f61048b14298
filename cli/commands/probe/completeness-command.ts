// `storefleet completeness`: the fleet's archives compared over one lagged window.
import type { Command } from 'commander';
import { targetsFor, withDialer } from './fetching.ts';
import {
  addSourceOptions,
  ProbeUsageError,
  resolveProbeSettings,
  type SourceOptions,
} from './flags.ts';
import { formatCompleteness } from './tables.ts';

export function registerCompletenessCommand(program: Command): void {
  addSourceOptions(
    program
      .command('completeness')
      .description(
        "Compare the fleet's archives over one lagged window: union of hashes, re-asked by hash",
      ),
  )
    .option(
      '--window-end <iso>',
      'end of the window (default: the last aligned window before the lag)',
    )
    .action(async (options: SourceOptions & { json?: boolean; windowEnd?: string }) => {
      const settings = await resolveProbeSettings(options);
      const targets = await targetsFor(options, settings);
      const { measureCompleteness, storeHashSource } = await import(
        '../../../probes/completeness.ts'
      );
      const { systemClock } = await import('../../../probes/clock.ts');
      let window: { startMs: number; endMs: number } | undefined;
      if (options.windowEnd !== undefined) {
        const endMs = Date.parse(options.windowEnd);
        if (Number.isNaN(endMs)) {
          throw new ProbeUsageError(
            `--window-end: got "${options.windowEnd}"; expected an ISO time such as 2026-01-01T12:00:00Z`,
          );
        }
        window = { startMs: endMs - settings.completeness.windowSeconds * 1000, endMs };
      }
      const results = await withDialer(settings, (dialer) =>
        measureCompleteness({
          sources: targets.map((target) =>
            storeHashSource(
              (query, signal) =>
                dialer.storeQuery(target.multiaddr, query, {
                  signal,
                  maxResponseBytes: settings.probe.maxResponseBytes,
                }),
              {
                nodeId: target.nodeId,
                pubsubTopic: settings.pubsubTopic,
                contentTopics: settings.probe.contentTopics,
              },
            ),
          ),
          vantageId: settings.vantage.id,
          settings: settings.completeness,
          clock: systemClock,
          ...(window === undefined ? {} : { window }),
        }),
      );
      console.log(options.json ? JSON.stringify(results, null, 2) : formatCompleteness(results));
    });
}
