// The emulated AWS itself: a client of one region cannot reach another's DynamoDB, KMS signs with a real P-256 key, ECS reports and redeploys real store nodes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parseFleetConfig } from '../../fleet/config.ts';
import { verifyRegistrySignature } from '../../fleet/registry/index.ts';
import { nodeStateTableName } from '../../infra/resource-names.ts';
import { EcsNodeRuntime } from '../../lambdas/adapters/EcsNodeRuntime.ts';
import { KmsRegistrySigner } from '../../lambdas/adapters/KmsRegistrySigner.ts';
import { AwsClients, AwsEndpointError } from '../../lambdas/shared/aws-clients.ts';
import { SsmControlPlane } from '../../lambdas/shared/control-plane.ts';
import { fastFleetConfig, waitFor } from '../e2e/fleet-harness.ts';
import {
  EMULATED_CREDENTIALS,
  type EmulatedAws,
  REGISTRY_KEY_ALIAS,
  startEmulatedAws,
} from './emulated-aws.ts';

const BASE_PORT = 24300;
let aws: EmulatedAws;
let clients: AwsClients;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'storefleet-emulated-aws-'));
  const example = fastFleetConfig(6);
  // One node in each of the three regions.
  const config = parseFleetConfig({
    ...example,
    nodes: [example.nodes[0], example.nodes[2], example.nodes[4]],
    failover: { ...example.failover, minHealthy: 1 },
  });
  aws = await startEmulatedAws({
    config,
    controlRegion: 'eu-central-1',
    basePort: BASE_PORT,
    dataDir,
  });
  process.env.AWS_ACCESS_KEY_ID = EMULATED_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATED_CREDENTIALS.secretAccessKey;
  clients = new AwsClients(aws.endpoints);
}, 60_000);

afterAll(async () => {
  clients?.destroy();
  await aws?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('DynamoDB per region', () => {
  it('refuses a request signed for another region, as AWS does', async () => {
    const stray = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: aws.endpoints.dynamodb?.['eu-central-1'],
      credentials: EMULATED_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      await assert.rejects(stray.send(new ListTablesCommand({})), (error: Error) => {
        assert.equal(error.name, 'InvalidSignatureException');
        assert.match(error.message, /Credential should be scoped to a valid region/);
        return true;
      });
    } finally {
      stray.destroy();
    }
  });

  it('holds the tables in the control region only', async () => {
    const key = { pk: 'x', sk: 'y' };
    const TableName = nodeStateTableName(aws.config.fleet);
    const found = await clients
      .dynamo('eu-central-1')
      .send(new GetCommand({ TableName, Key: key }));
    assert.equal(found.Item, undefined);
    await assert.rejects(
      clients.dynamo('us-east-1').send(new GetCommand({ TableName, Key: key })),
      { name: 'ResourceNotFoundException' },
    );
  });

  it('has no endpoint for a region outside the fleet', () => {
    assert.throws(() => clients.dynamo('sa-east-1'), AwsEndpointError);
  });
});

describe('SSM, KMS', () => {
  it('serves the config and each region its own address parameter', async () => {
    const plane = new SsmControlPlane({
      controlRegion: 'eu-central-1',
      configParameter: `/storefleet/${aws.config.fleet.replaceAll('.', '-')}/config`,
      deploymentParameter: `/storefleet/${aws.config.fleet.replaceAll('.', '-')}/deployment`,
      clientForRegion: (region) => clients.ssm(region),
    });
    const { config } = await plane.load();
    assert.deepEqual(
      config.nodes.map((node) => node.id),
      aws.config.nodes.map((node) => node.id),
    );
    const book = await plane.addresses();
    assert.deepEqual(Object.keys(book).sort(), aws.config.nodes.map((node) => node.id).sort());
  });

  it('signs by digest with a P-256 key whose public half verifies the signature', async () => {
    const signer = new KmsRegistrySigner({
      keyId: REGISTRY_KEY_ALIAS,
      client: clients.kms('eu-central-1'),
    });
    const bytes = new TextEncoder().encode('{"fleets":{}}'.repeat(500));
    const signature = await signer.sign(bytes);
    const pem = await signer.publicKeyPem();
    assert.equal(pem, aws.publicKeyPem);
    assert.equal(verifyRegistrySignature(bytes, signature, pem), true);
    assert.equal(verifyRegistrySignature(bytes.slice(1), signature, pem), false);
    const elsewhere = new KmsRegistrySigner({
      keyId: REGISTRY_KEY_ALIAS,
      client: clients.kms('us-east-1'),
    });
    await assert.rejects(elsewhere.sign(bytes), /NotFoundException/);
  });
});

describe('ECS', () => {
  it('reports real node processes and redeploys a killed one', async () => {
    const runtime = new EcsNodeRuntime({
      clusterName: aws.topology.nodes[0]?.cluster as string,
      nodes: aws.topology.nodes.map((node) => ({ id: node.nodeId, region: node.region })),
      serviceName: (id) => aws.topology.nodes.find((node) => node.nodeId === id)?.service as string,
      clientForRegion: (region) => clients.ecs(region),
      logger: { info: () => {} },
    });
    const victim = aws.config.nodes[1]?.id as string;
    assert.deepEqual([...(await runtime.taskStates()).values()], ['running', 'running', 'running']);
    aws.runtime.killNode(victim);
    await waitFor(
      'the killed task to read stopped',
      async () => (await runtime.taskStates()).get(victim) === 'stopped',
      10_000,
    );
    await runtime.replaceNode(victim, 'test');
    assert.deepEqual(aws.ecs.updates.at(-1), {
      region: 'us-east-1',
      service: 'store-01-us-east',
      forceNewDeployment: true,
    });
    await waitFor(
      'the redeployed task to run',
      async () => (await runtime.taskStates()).get(victim) === 'running',
      30_000,
    );
  }, 60_000);
});
