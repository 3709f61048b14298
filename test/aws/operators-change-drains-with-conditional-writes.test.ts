// The AWS API on emulated AWS: operator drains are versioned conditional writes (two operators cannot both pass the min-healthy check), and alarm states come from CloudWatch with their runbooks.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { StaleStateError } from '../../fleet/ports.ts';
import { nodeStateTableName, probeResultsTableName } from '../../infra/resource-names.ts';
import { createApiApp } from '../../lambdas/api/api-app.ts';
import { AwsClients } from '../../lambdas/shared/aws-clients.ts';
import { ecsRuntime } from '../../lambdas/shared/aws-wiring.ts';
import { SsmControlPlane } from '../../lambdas/shared/control-plane.ts';
import { controlTables } from '../../lambdas/shared/control-ports.ts';
import { CONTROL_REGION, fastAwsFleetConfig } from './aws-fleet-harness.ts';
import { EMULATED_CREDENTIALS, type EmulatedAws, startEmulatedAws } from './emulated-aws.ts';

const BASE_PORT = 24700;
let aws: EmulatedAws;
let clients: AwsClients;
let dataDir: string;
let tables: ReturnType<typeof controlTables>;
let api: ReturnType<typeof createApiApp>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'storefleet-api-drains-'));
  process.env.AWS_ACCESS_KEY_ID = EMULATED_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATED_CREDENTIALS.secretAccessKey;
  aws = await startEmulatedAws({
    config: fastAwsFleetConfig(),
    controlRegion: CONTROL_REGION,
    basePort: BASE_PORT,
    dataDir,
    startNodes: false,
  });
  clients = new AwsClients(aws.endpoints);
  const fleet = aws.config.fleet;
  tables = controlTables(
    {
      fleet,
      controlRegion: CONTROL_REGION,
      nodeStateTable: nodeStateTableName(fleet),
      probeResultsTable: probeResultsTableName(fleet),
    },
    clients,
  );
  const controlPlane = new SsmControlPlane({
    controlRegion: CONTROL_REGION,
    configParameter: `/storefleet/${fleet.replaceAll('.', '-')}/config`,
    deploymentParameter: `/storefleet/${fleet.replaceAll('.', '-')}/deployment`,
    clientForRegion: (region) => clients.ssm(region),
  });
  api = createApiApp({
    controlPlane,
    store: tables.store,
    drains: tables.drains,
    runtime: ecsRuntime(aws.topology, (region) => clients.ecs(region)),
    cloudWatch: clients.cloudwatch(CONTROL_REGION),
    invokeStress: async () => {},
  });
}, 30_000);

afterAll(async () => {
  clients?.destroy();
  await aws?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const ids = () => aws.config.nodes.map((node) => node.id);
const post = (path: string) => api.request(path, { method: 'POST' });

describe('operator drains', () => {
  it('refuse a write based on a read another operator has overtaken', async () => {
    const first = tables.drains();
    const second = tables.drains();
    await first.drained();
    await second.drained();
    await first.setDrained(new Set([ids()[0] as string]));
    await assert.rejects(second.setDrained(new Set([ids()[1] as string])), StaleStateError);
    assert.deepEqual([...(await tables.drains().drained())], [ids()[0]]);
    const reset = tables.drains();
    await reset.drained();
    await reset.setDrained(new Set());
  });

  it('let only one of two concurrent drains through when one more would go below minHealthy', async () => {
    // Six listed, minHealthy 3: two drains leave four, then one more is allowed, not two.
    assert.equal((await post(`/api/nodes/${ids()[0]}/drain`)).status, 200);
    assert.equal((await post(`/api/nodes/${ids()[1]}/drain`)).status, 200);
    const [a, b] = await Promise.all([
      post(`/api/nodes/${ids()[2]}/drain`),
      post(`/api/nodes/${ids()[3]}/drain`),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [200, 409]);
    const refused = a.status === 409 ? a : b;
    assert.match((await refused.json()).error, /below failover.minHealthy \(3\)/);
    const view = await (await api.request('/api/nodes')).json();
    assert.equal(view.listedNodeIds.length, 3);
    assert.equal(
      view.nodes.filter((node: { operatorDrained: boolean }) => node.operatorDrained).length,
      3,
    );
    assert.ok(view.nodes.every((node: { taskState: string }) => node.taskState === 'stopped'));
    assert.deepEqual(view.reportingVantageIds, []);
  });
});

describe('GET /api/alarms', () => {
  it('lists the fleet’s CloudWatch alarms with their state and runbook', async () => {
    aws.cloudwatch.setAlarm(CONTROL_REGION, {
      AlarmName: `${aws.config.fleet}-ProberBlind-vp-us`,
      StateValue: 'ALARM',
      StateReason: 'Threshold Crossed',
    });
    aws.cloudwatch.setAlarm(CONTROL_REGION, {
      AlarmName: 'another-fleet-ProberBlind',
      StateValue: 'OK',
    });
    const body = await (await api.request('/api/alarms')).json();
    assert.deepEqual(
      body.alarms.map((alarm: { name: string; state: string; runbook: string }) => [
        alarm.name,
        alarm.state,
        alarm.runbook,
      ]),
      [[`${aws.config.fleet}-ProberBlind-vp-us`, 'ALARM', 'docs/runbooks.md#proberblind']],
    );
  });
});
