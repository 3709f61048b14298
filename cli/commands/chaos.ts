// `storefleet chaos`: breaks a running local fleet on purpose (kill, stall, slow, hole, flap, blind) and mends it (clear).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../fleet/user-error.ts';

export class ChaosUsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ChaosUsageError';
  }
}

const CHAOS_REQUEST_TIMEOUT_MS = 10_000;

interface ChaosOptions {
  dataDir: string;
  url?: string;
}

const NODE_FAULTS = {
  kill: 'kill the node process at once (SIGKILL)',
  stall: 'the node accepts connections but never answers',
  slow: 'the node answers late',
  hole: 'the node drops part of new messages from its archive',
  flap: 'the node stalls, and stalls again each time it is back and listed',
} as const;

async function readRunningFleet(options: ChaosOptions): Promise<{ url: string; token: string }> {
  const read = (name: string) =>
    readFile(join(options.dataDir, name), 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
  const token = await read('admin-token');
  const url = options.url ?? (await read('api-url'));
  if (!token || !url) {
    throw new ChaosUsageError(
      `no running fleet found in ${options.dataDir} (expected admin-token and api-url there); start one with npm start, or pass --data-dir`,
    );
  }
  return { url, token };
}

async function sendChaos(options: ChaosOptions, body: Record<string, string>): Promise<void> {
  const { url, token } = await readRunningFleet(options);
  let response: Response;
  try {
    response = await fetch(new URL('/api/chaos', url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CHAOS_REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new ChaosUsageError(
      `the fleet at ${url} did not answer (${(error as Error).message}); is npm start still running?`,
    );
  }
  const answer = (await response.json().catch(() => ({}))) as { done?: string; error?: string };
  if (!response.ok) {
    throw new ChaosUsageError(answer.error ?? `the fleet refused (${response.status})`);
  }
  console.log(answer.done);
}

export function registerChaosCommands(program: Command): void {
  const chaos = program
    .command('chaos')
    .description('Inject faults into a running local fleet (npm start) to watch it react')
    .option('--data-dir <dir>', 'data folder of the running fleet', '.storefleet')
    .option('--url <url>', 'API URL of the running fleet (default: read from the data folder)');
  const parentOptions = (): ChaosOptions => chaos.opts() as ChaosOptions;
  for (const [action, description] of Object.entries(NODE_FAULTS)) {
    chaos
      .command(action)
      .description(description)
      .argument('<node>', 'node id, or a unique prefix such as store-01.us-east')
      .action((nodeId: string) => sendChaos(parentOptions(), { action, nodeId }));
  }
  chaos
    .command('blind')
    .description("make one vantage point's probes fail, as if that prober lost its network")
    .argument('<vantage>', 'vantage point id, e.g. vp-us')
    .action((vantageId: string) => sendChaos(parentOptions(), { action: 'blind', vantageId }));
  chaos
    .command('clear')
    .description('remove every fault (or those of one node or vantage point)')
    .argument('[target]', 'node id or vantage point id')
    .action((target: string | undefined) =>
      sendChaos(parentOptions(), target ? { action: 'clear', target } : { action: 'clear' }),
    );
}
