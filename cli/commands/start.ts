// `storefleet start`: the embedded default — a local fleet, the control loop, the signed registry and a dashboard.
import type { Command } from 'commander';
import { UserError } from '../../fleet/user-error.ts';
import { loadFleetConfig } from '../../local/config-file.ts';
import { DEFAULT_CONFIG_PATH } from './config.ts';

export class StartUsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'StartUsageError';
  }
}

interface StartOptions {
  config: string;
  port: string;
  dataDir: string;
  reset?: boolean;
  interval?: string;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new StartUsageError(`--port "${text}" is not a TCP port (0-65535, 0 = any free port)`);
  }
  return port;
}

export function registerStartCommands(program: Command): void {
  program
    .command('start')
    .description(
      'Run a local fleet of store nodes with probers, the controller, a signed fleets.json and a live dashboard',
    )
    .option('--config <file>', 'fleet config (JSON)', DEFAULT_CONFIG_PATH)
    .option('--port <n>', 'HTTP port on 127.0.0.1 for the dashboard, API and registry', '8080')
    .option('--data-dir <dir>', 'where nodes, state and the registry live', '.storefleet')
    .option('--reset', 'forget the state, registry and node data first (keys are kept)')
    .option('--interval <seconds>', 'probe interval (default: probe.intervalSeconds of the config)')
    .action(async (options: StartOptions) => {
      const config = await loadFleetConfig(options.config);
      const port = parsePort(options.port);
      let intervalMs: number | undefined;
      if (options.interval !== undefined) {
        const seconds = Number(options.interval);
        if (!(seconds > 0)) {
          throw new StartUsageError(
            `--interval "${options.interval}" is not a positive number of seconds`,
          );
        }
        intervalMs = seconds * 1000;
      }
      const { Orchestrator } = await import('../../local/orchestrator.ts');
      const fleet = await Orchestrator.start({
        config,
        port,
        dataDir: options.dataDir,
        reset: options.reset === true,
        ...(intervalMs === undefined ? {} : { intervalMs }),
      });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const shutdown = (signal: string) => {
          if (stopping) return;
          stopping = true;
          console.log(`${signal}: stopping the fleet (state is kept in ${fleet.dataDir})`);
          fleet.stop().then(resolve, (error: unknown) => {
            console.error(error);
            resolve();
          });
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
      });
    });
}
