// The `storefleet` command line: one entry, subcommands registered from cli/commands/.
import { Command, CommanderError } from 'commander';
import { UserError } from '../fleet/user-error.ts';
import { registerChaosCommands } from './commands/chaos.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerNodeCommands } from './commands/node.ts';
import { registerProbeCommands } from './commands/probe.ts';
import { registerRegistryCommands } from './commands/registry.ts';
import { registerStartCommands } from './commands/start.ts';
import { registerWatchCommands } from './commands/watch.ts';

export function buildProgram(): Command {
  const program = new Command('storefleet')
    .description(
      'Orchestrates fleets of Waku store nodes: probe, rank, fail over, publish a signed fleets.json',
    )
    .showHelpAfterError()
    .exitOverride();
  registerConfigCommands(program);
  registerNodeCommands(program);
  registerProbeCommands(program);
  registerRegistryCommands(program);
  registerStartCommands(program);
  registerChaosCommands(program);
  registerWatchCommands(program);
  return program;
}

/** Errors a user caused (UserError: bad input) exit with their own code, 2, and their message alone; anything else exits 1. */
export function exitCodeFor(error: unknown): number {
  return error instanceof UserError ? error.exitCode : 1;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    if (process.env.STOREFLEET_DEBUG && error instanceof Error) console.error(error.stack);
    process.exitCode = exitCodeFor(error);
  }
}

if (import.meta.main) await main(process.argv);
