// `storefleet probe`: every store node of a fleet probed once, as a table or JSON.
import type { Command } from 'commander';
import { targetsFor, withDialer } from './fetching.ts';
import { addSourceOptions, resolveProbeSettings, type SourceOptions } from './flags.ts';
import { formatProbeRound } from './tables.ts';

export function registerProbeCommand(program: Command): void {
  addSourceOptions(
    program
      .command('probe')
      .description(
        'Probe every store node of a fleet once: libp2p ping, metadata, store freshness and REST health',
      ),
  ).action(async (options: SourceOptions & { json?: boolean }) => {
    const settings = await resolveProbeSettings(options);
    const targets = await targetsFor(options, settings);
    const [{ runProbeRound }, rest, { systemClock }] = await Promise.all([
      import('../../../probes/probe-round.ts'),
      import('../../../waku/client/rest.ts'),
      import('../../../probes/clock.ts'),
    ]);
    const round = await withDialer(settings, (dialer) =>
      runProbeRound(
        { dialer, rest: { health: rest.health }, clock: systemClock },
        {
          vantage: settings.vantage,
          // Round 0 dials fresh: a one-off probe sees what a new client sees.
          round: 0,
          targets,
          probe: settings.probe,
          clusterId: settings.clusterId,
          pubsubTopic: settings.pubsubTopic,
        },
      ),
    );
    console.log(options.json ? JSON.stringify(round, null, 2) : formatProbeRound(round));
  });
}
