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
    .option(
      '--reset',
      'forget the state, registry versions and node data first (the signing key, admin token and registry sequence are kept)',
    )
    .option('--interval <seconds>', 'probe interval (default: probe.intervalSeconds of the config)')
    .action(async (options: StartOptions) => {
      // Signals are ours from the first line: a Ctrl-C while nodes start stops them, never orphans them.
      const stop = new StopSignals();
      try {
        await runStart(options, stop);
      } finally {
        stop.dispose();
      }
    });
}

/** SIGINT/SIGTERM during start-up abort it; afterwards they stop the running fleet; a second one forces the exit. */
class StopSignals {
  readonly controller = new AbortController();
  #onStop: (() => void) | undefined;
  #received: string | undefined;
  readonly #handlers: [NodeJS.Signals, () => void][] = [];

  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => this.#receive(signal);
      process.on(signal, handler);
      this.#handlers.push([signal, handler]);
    }
  }

  get received(): string | undefined {
    return this.#received;
  }

  /** What to do on the first signal once the fleet runs. */
  whenStopped(onStop: () => void): void {
    this.#onStop = onStop;
    if (this.#received) onStop();
  }

  #receive(signal: string): void {
    if (this.#received) {
      console.error(`${signal} again: exiting now (nodes get SIGTERM from their closed stdin)`);
      process.exit(signal === 'SIGINT' ? EXIT_ON_SIGINT : EXIT_ON_SIGTERM);
    }
    this.#received = signal;
    this.controller.abort(signal);
    this.#onStop?.();
  }

  dispose(): void {
    for (const [signal, handler] of this.#handlers) process.off(signal, handler);
  }
}

/** Shell convention: 128 + the signal number. */
const EXIT_ON_SIGINT = 130;
const EXIT_ON_SIGTERM = 143;

async function runStart(options: StartOptions, stop: StopSignals): Promise<void> {
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
  const { Orchestrator, StartAbortedError } = await import('../../local/orchestrator.ts');
  if (stop.received) return;
  let fleet: Awaited<ReturnType<typeof Orchestrator.start>>;
  try {
    fleet = await Orchestrator.start({
      config,
      port,
      dataDir: options.dataDir,
      reset: options.reset === true,
      signal: stop.controller.signal,
      ...(intervalMs === undefined ? {} : { intervalMs }),
    });
  } catch (error) {
    if (error instanceof StartAbortedError) {
      console.log(`${stop.received}: ${error.message}`);
      return;
    }
    throw error;
  }
  // A crash of the orchestrator itself still stops the nodes before the process goes.
  const crashed = (error: unknown) => {
    console.error('storefleet start crashed; stopping the nodes:', error);
    fleet.stop().finally(() => process.exit(1));
  };
  process.once('uncaughtException', crashed);
  process.once('unhandledRejection', crashed);
  try {
    await new Promise<void>((resolve) => {
      stop.whenStopped(() => {
        console.log(`${stop.received}: stopping the fleet (state is kept in ${fleet.dataDir})`);
        fleet.stop().then(resolve, (error: unknown) => {
          console.error(error);
          resolve();
        });
      });
    });
  } finally {
    process.off('uncaughtException', crashed);
    process.off('unhandledRejection', crashed);
  }
}
