// `storefleet chaos`: finds the running fleet through its data folder and sends the fault with the admin token.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, describe, it } from 'vitest';
import { buildProgram } from '../../cli/main.ts';
import { parseFleetConfig } from '../../fleet/config.ts';
import { type ChaosRequest, createApi, type FleetControl } from '../../local/api.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const config = parseFleetConfig(
  JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8')),
);
const TOKEN = 'chaos-test-token-0123456789';
const dirs: string[] = [];
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function runningFleet(received: ChaosRequest[]): Promise<string> {
  const control = {
    chaos: async (request: ChaosRequest) => {
      received.push(request);
      return `did ${request.action}`;
    },
  } as unknown as FleetControl;
  const app = createApi({ config, control, adminToken: TOKEN, dashboardHtml: '' });
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(started as Server),
    ) as Server;
  });
  servers.push(server);
  const dataDir = mkdtempSync(join(tmpdir(), 'storefleet-chaos-'));
  dirs.push(dataDir);
  writeFileSync(join(dataDir, 'admin-token'), `${TOKEN}\n`, { mode: 0o600 });
  writeFileSync(
    join(dataDir, 'api-url'),
    `http://127.0.0.1:${(server.address() as AddressInfo).port}\n`,
  );
  return dataDir;
}

async function storefleet(...args: string[]): Promise<void> {
  await buildProgram().parseAsync(['node', 'storefleet', ...args]);
}

describe('storefleet chaos', () => {
  it('sends node faults, blind and clear to the running fleet', async () => {
    const received: ChaosRequest[] = [];
    const dataDir = await runningFleet(received);
    await storefleet('chaos', '--data-dir', dataDir, 'kill', 'store-01.us-east');
    await storefleet('chaos', '--data-dir', dataDir, 'blind', 'vp-us');
    await storefleet('chaos', '--data-dir', dataDir, 'clear');
    assert.deepEqual(received, [
      { action: 'kill', nodeId: 'store-01.us-east' },
      { action: 'blind', vantageId: 'vp-us' },
      { action: 'clear' },
    ]);
  });

  it('says how to start a fleet when none is running there', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'storefleet-chaos-'));
    dirs.push(empty);
    await assert.rejects(
      storefleet('chaos', '--data-dir', empty, 'stall', 'store-01'),
      (error: Error) => {
        assert.equal(error.name, 'ChaosUsageError');
        assert.match(error.message, /no running fleet found in .*start one with npm start/);
        return true;
      },
    );
  });
});
