// `storefleet node run|id`: runs one local Waku store node in the foreground, or prints a data dir's peer id.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../fleet/user-error.ts';
import { NODE_ADMIN_TOKEN_ENV } from '../../local/process-runtime.ts';
/**
 * Bytes one archived message takes in the local node's SQLite archive (row and indexes), measured
 * on the traffic generator's messages; turns a `size:` retention into a message count.
 */
export const ARCHIVE_BYTES_PER_MESSAGE = 512;
const SIZE_UNITS = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;

/** Exit code of a node that crashed on purpose (the crash fault): EX_SOFTWARE. */
export const CRASH_EXIT_CODE = 70;

export class NodeUsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'NodeUsageError';
  }
}

function parsePort(name: string) {
  return (text: string): number => {
    const port = Number(text);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new NodeUsageError(
        `--${name} "${text}" is not a TCP port (0-65535, 0 = any free port)`,
      );
    }
    return port;
  };
}

function parseNonNegativeInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
      throw new NodeUsageError(`--${name} "${text}" is not a non-negative integer`);
    }
    return value;
  };
}

export function parseShards(text: string): number[] {
  const shards = text.split(',').map((part) => part.trim());
  if (shards.some((shard) => !/^\d+$/.test(shard) || Number(shard) > 1023)) {
    throw new NodeUsageError(
      `--shards "${text}" is not a comma-separated list of shard numbers (0-1023), e.g. 1,32`,
    );
  }
  return [...new Set(shards.map(Number))];
}

/**
 * nwaku's `--store-message-retention-policy` syntax: `capacity:<messages>`, `time:<seconds>` or
 * `size:<n>KB|MB|GB` (the fleet config's `resources.retention`); a size becomes a message count at
 * ARCHIVE_BYTES_PER_MESSAGE.
 */
export function parseRetention(text: string): { maxMessages?: number; maxAgeMs?: number } {
  const match = /^(capacity|time):(\d+)$/.exec(text);
  const size = /^size:(\d+)(KB|MB|GB)$/.exec(text);
  if (size !== null) {
    const bytes = Number(size[1]) * SIZE_UNITS[size[2] as keyof typeof SIZE_UNITS];
    return { maxMessages: Math.max(1, Math.floor(bytes / ARCHIVE_BYTES_PER_MESSAGE)) };
  }
  if (match === null) {
    throw new NodeUsageError(
      `--retention "${text.slice(0, 40)}" is not capacity:<messages>, time:<seconds> or size:<n>KB|MB|GB (e.g. capacity:100000, time:86400, size:50GB)`,
    );
  }
  const amount = Number(match[2]);
  return match[1] === 'capacity' ? { maxMessages: amount } : { maxAgeMs: amount * 1000 };
}

/** The admin token from, in order: --admin-token-file, the NODE_ADMIN_TOKEN_ENV variable, --admin-token. */
export function nodeAdminToken(
  options: { adminToken?: string; adminTokenFile?: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (options.adminTokenFile !== undefined) {
    let token: string;
    try {
      token = readFileSync(options.adminTokenFile, 'utf8').trim();
    } catch (error) {
      throw new NodeUsageError(
        `--admin-token-file ${options.adminTokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; expected a file holding the token`,
      );
    }
    if (token === '')
      throw new NodeUsageError(`--admin-token-file ${options.adminTokenFile} is empty`);
    return token;
  }
  const fromEnv = env[NODE_ADMIN_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return options.adminToken;
}

interface RunOptions {
  dataDir: string;
  cluster: number;
  shards: number[];
  host: string;
  tcpPort?: number;
  wsPort?: number;
  restPort?: number;
  adminToken?: string;
  adminTokenFile?: string;
  stopWithParent?: boolean;
  peer: string[];
  seed?: number;
  retention?: { maxMessages?: number; maxAgeMs?: number };
}

export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('Run a local Waku store node');
  node
    .command('run')
    .description(
      'Run one store node in the foreground; prints one JSON "ready" line on stdout, stops on SIGTERM/SIGINT',
    )
    .requiredOption('--data-dir <dir>', 'where the node key and the SQLite archive live')
    .option('--cluster <id>', 'cluster id', parseNonNegativeInteger('cluster'), 16)
    .option('--shards <list>', 'comma-separated shards to relay and archive', parseShards, [1, 32])
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .option('--tcp-port <port>', 'libp2p TCP port (default: any free port)', parsePort('tcp-port'))
    .option(
      '--ws-port <port>',
      'libp2p websocket port (default: any free port)',
      parsePort('ws-port'),
    )
    .option('--rest-port <port>', 'REST API port (default: any free port)', parsePort('rest-port'))
    .option(
      '--admin-token-file <file>',
      `file holding the bearer token enabling /admin/v1/faults (or set ${NODE_ADMIN_TOKEN_ENV})`,
    )
    .option(
      '--admin-token <token>',
      `the same token on the command line (visible to every local user in ps: prefer the file or ${NODE_ADMIN_TOKEN_ENV})`,
    )
    .option('--stop-with-parent', 'stop when stdin closes (the supervisor exited, even by kill -9)')
    .option(
      '--peer <multiaddr>',
      'relay peer to stay connected to (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--seed <n>',
      'seed of the fault injection random choices',
      parseNonNegativeInteger('seed'),
    )
    .option('--retention <policy>', 'capacity:<messages> or time:<seconds>', parseRetention)
    .action(async (options: RunOptions) => {
      const adminToken = nodeAdminToken(options);
      // Nothing this process starts needs it.
      delete process.env[NODE_ADMIN_TOKEN_ENV];
      const { startStoreNode } = await import('../../waku/node/store-node.ts');
      const handle = await startStoreNode({
        dataDir: options.dataDir,
        clusterId: options.cluster,
        shards: options.shards,
        host: options.host,
        tcpPort: options.tcpPort,
        websocketPort: options.wsPort,
        restPort: options.restPort,
        adminToken,
        peers: options.peer,
        seed: options.seed,
        retention: options.retention,
        onCrash: () => {
          process.stderr.write('crash fault: exiting now\n');
          process.exit(CRASH_EXIT_CODE);
        },
      });
      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping\n`);
        handle.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            process.stderr.write(`stop failed: ${String(error)}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      if (options.stopWithParent) {
        process.stdin.on('data', () => {});
        process.stdin.once('end', () => shutdown('supervisor gone (stdin closed)'));
        process.stdin.once('error', () => shutdown('supervisor gone (stdin error)'));
      }
      process.stdout.write(
        `${JSON.stringify({
          event: 'ready',
          peerId: handle.peerId,
          tcpAddress: handle.tcpAddress,
          websocketAddress: handle.websocketAddress,
          restUrl: handle.restUrl,
          ...(handle.enr === undefined ? {} : { enr: handle.enr }),
        })}\n`,
      );
    });
  node
    .command('id')
    .description("Print the node's peer id, creating its key in the data dir if needed")
    .requiredOption('--data-dir <dir>', 'where the node key lives')
    .action(async (options: { dataDir: string }) => {
      const { peerIdOfDataDir } = await import('../../waku/node/node-key.ts');
      console.log(peerIdOfDataDir(options.dataDir));
    });
}
