// `storefleet watch --vantage ID`: the AWS watcher task (one per vantage point, on ECS); settings come from the environment the CDK app sets.
import type { Command } from 'commander';

interface WatchOptions {
  vantage?: string;
}

export function registerWatchCommands(program: Command): void {
  program
    .command('watch')
    .description(
      'Run one vantage point of a deployed fleet: probe every round and record it in the control region; the control region’s watcher also decides and publishes (settings: STOREFLEET_* environment, see fleet/function-environment.ts)',
    )
    .option('--vantage <id>', 'vantage point id of the config (default: STOREFLEET_VANTAGE_ID)')
    .action(async (options: WatchOptions) => {
      const { startAwsWatcher } = await import('../../lambdas/watcher/aws-watcher.ts');
      const watcher = await startAwsWatcher({
        env: process.env,
        ...(options.vantage === undefined ? {} : { vantageId: options.vantage }),
      });
      const shutdown = () => {
        // ECS sends SIGTERM and waits stopTimeout before SIGKILL; the loops end within a round.
        void watcher.stop();
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      await watcher.done;
    });
}
