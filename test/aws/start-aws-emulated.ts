// `npm run start:aws-emulated`: the AWS wiring on this machine for a person to watch: emulated AWS, one `storefleet watch` process per vantage point, the dashboard and the AWS API handler.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { parseFleetConfig } from '../../fleet/config.ts';
import { createApiApp } from '../../lambdas/api/api-app.ts';
import { AwsClients } from '../../lambdas/shared/aws-clients.ts';
import { loadDashboardHtml } from '../../local/dashboard/page.ts';
import { EMULATED_CREDENTIALS, startEmulatedAws } from './emulated-aws.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const LOOPBACK = '127.0.0.1';
export const DEFAULT_BASE_PORT = 25100;
export const DEFAULT_CONTROL_REGION = 'eu-central-1';
/** The dashboard asks for a snapshot this often (the AWS API has no push). */
const SNAPSHOT_INTERVAL_MS = 2000;

interface StartOptions {
  config: string;
  port: number;
  basePort: number;
  dataDir: string;
  controlRegion: string;
  log?: (line: string) => void;
}

export interface RunningEmulatedAws {
  url: string;
  stop(): Promise<void>;
}

/** Starts everything and prints the same `dashboard` and `fleets.json` lines as `npm start`. */
export async function startAwsEmulated(options: StartOptions): Promise<RunningEmulatedAws> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = resolve(options.dataDir);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const config = parseFleetConfig(JSON.parse(readFileSync(options.config, 'utf8')));
  const aws = await startEmulatedAws({
    config,
    controlRegion: options.controlRegion,
    basePort: options.basePort,
    dataDir,
    log: (line) => log(`ecs: ${line}`),
  });
  const env = aws.environment({ STOREFLEET_STRESS_FUNCTION: 'storefleet-stress' });
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: EMULATED_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATED_CREDENTIALS.secretAccessKey,
  });
  // One `storefleet watch` process per vantage point, as one ECS task each.
  const watchers: ChildProcess[] = aws.config.vantagePoints.map((vantage) => {
    const logFile = createWriteStream(join(dataDir, `watch-${vantage.id}.log`), { flags: 'a' });
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'cli', 'main.ts'), 'watch', '--vantage', vantage.id],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT },
    );
    child.stdout?.pipe(logFile);
    child.stderr?.pipe(logFile);
    return child;
  });
  const clients = new AwsClients(aws.endpoints);
  // The entry builds its handler at import from process.env: give it the function's environment first.
  Object.assign(process.env, env);
  const { defaultApiDependencies } = await import('../../lambdas/api/handler.ts');
  const api = createApiApp(defaultApiDependencies(env, clients));
  const adminToken = randomBytes(18).toString('base64url');
  const app = new Hono();
  app.get('/', (c) => c.html(loadDashboardHtml()));
  app.get('/fleets.json', async (c) => {
    try {
      const object = await clients
        .s3(aws.controlRegion)
        .send(new GetObjectCommand({ Bucket: aws.bucketName, Key: 'fleets.json' }));
      const bytes = await object.Body?.transformToByteArray();
      c.header('X-Registry-Sequence', object.Metadata?.['sequence'] ?? '');
      c.header('Cache-Control', object.CacheControl ?? 'no-store');
      return c.body(bytes ? Buffer.from(bytes).toString('utf8') : '', 200, {
        'content-type': 'application/json',
      });
    } catch {
      return c.json({ error: 'no registry version published yet' }, 503);
    }
  });
  app.get('/api/log', (c) => c.json({ events: [] }));
  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let sequence = '';
      while (!stream.aborted && !stream.closed) {
        const res = await api.request('/api/nodes');
        if (res.ok) {
          await stream.writeSSE({
            event: 'snapshot',
            data: JSON.stringify({ type: 'snapshot', snapshot: await res.json() }),
          });
        }
        const current = await app.request('/fleets.json');
        const seen = current.headers.get('x-registry-sequence') ?? '';
        if (seen !== sequence) {
          sequence = seen;
          await stream.writeSSE({ event: 'registry', data: JSON.stringify({ sequence }) });
        }
        await stream.sleep(SNAPSHOT_INTERVAL_MS);
      }
    }),
  );
  app.use('/api/*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.header('authorization') !== `Bearer ${adminToken}`) {
      return c.json({ error: 'paste the admin token printed at start' }, 401);
    }
    return next();
  });
  app.all('/api/*', (c) => api.fetch(c.req.raw));
  const server = await new Promise<Server>((resolvePromise) => {
    const started = serve({ fetch: app.fetch, port: options.port, hostname: LOOPBACK }, () =>
      resolvePromise(started as Server),
    ) as Server;
  });
  const url = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  log(`storefleet: ${aws.config.fleet}, ${aws.config.nodes.length} nodes on emulated AWS`);
  log(`  dashboard    ${url}/`);
  log(`  fleets.json  ${url}/fleets.json  (from s3://${aws.bucketName} in ${aws.controlRegion})`);
  log(`  admin token  ${adminToken}`);
  log(`  watchers     ${aws.config.vantagePoints.map((v) => `${v.id} (${v.region})`).join(', ')}`);
  log(`  data         ${dataDir}`);
  return {
    url,
    stop: async () => {
      await Promise.all(
        watchers.map(
          (child) =>
            new Promise<void>((resolveExit) => {
              if (child.exitCode !== null) return resolveExit();
              child.once('exit', () => resolveExit());
              child.kill('SIGTERM');
            }),
        ),
      );
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      clients.destroy();
      await aws.close();
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: join(REPO_ROOT, 'config', 'fleet.example.json') },
      port: { type: 'string', default: '8080' },
      'base-port': { type: 'string', default: String(DEFAULT_BASE_PORT) },
      'data-dir': { type: 'string', default: join(REPO_ROOT, '.storefleet-aws-emulated') },
      'control-region': { type: 'string', default: DEFAULT_CONTROL_REGION },
    },
  });
  const running = await startAwsEmulated({
    config: values.config,
    port: Number(values.port),
    basePort: Number(values['base-port']),
    dataDir: values['data-dir'],
    controlRegion: values['control-region'],
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the watchers, the nodes and the emulated AWS`);
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
