// A region stack still deploying (no address parameter) or unreadable (no access) leaves out that region's nodes only: the rest is still published.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { identityFromHandshake } from '../../control/node-addresses.ts';
import { parseFleetsJsonBytes, parseRegistryJson } from '../../fleet/registry/index.ts';
import { initialFleetState } from '../../fleet/state.ts';
import {
  configParameterName,
  deploymentParameterName,
  nodeAddressesParameterName,
  nodeStateTableName,
  probeResultsTableName,
} from '../../infra/resource-names.ts';
import { AwsClients } from '../../lambdas/shared/aws-clients.ts';
import { SsmControlPlane, type UnreadableAddresses } from '../../lambdas/shared/control-plane.ts';
import { awsRegistryPublication, controlTables } from '../../lambdas/shared/control-ports.ts';
import { quietLog, recordingMetrics } from '../lambdas/handlers/local-fleet-fixture.ts';
import { CONTROL_REGION, fastAwsFleetConfig } from './aws-fleet-harness.ts';
import {
  EMULATED_CREDENTIALS,
  type EmulatedAws,
  REGISTRY_KEY_ALIAS,
  startEmulatedAws,
} from './emulated-aws.ts';

const BASE_PORT = 24500;
let aws: EmulatedAws;
let clients: AwsClients;
let dataDir: string;
const problems: UnreadableAddresses[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'storefleet-region-addresses-'));
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
}, 30_000);

afterAll(async () => {
  clients?.destroy();
  await aws?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function controlPlane() {
  const fleet = aws.config.fleet;
  return new SsmControlPlane({
    controlRegion: CONTROL_REGION,
    configParameter: configParameterName(fleet),
    deploymentParameter: deploymentParameterName(fleet),
    clientForRegion: (region) => clients.ssm(region),
    onUnreadableAddresses: (problem) => problems.push(problem),
  });
}

describe('while one region stack is still deploying and another is unreadable', () => {
  it('publishes the readable region’s nodes and says why the others are missing', async () => {
    // Prepare
    const fleet = aws.config.fleet;
    aws.ssm.remove('us-east-1', nodeAddressesParameterName(fleet, 'us-east-1'));
    aws.ssm.deny('ap-east-1', nodeAddressesParameterName(fleet, 'ap-east-1'));
    const tables = controlTables(
      {
        fleet,
        controlRegion: CONTROL_REGION,
        nodeStateTable: nodeStateTableName(fleet),
        probeResultsTable: probeResultsTableName(fleet),
      },
      clients,
    );
    for (const node of aws.config.nodes) {
      const peerId = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
      await tables.identities.record(identityFromHandshake(node.id, peerId, Date.now()));
    }
    const plane = controlPlane();
    const publication = awsRegistryPublication({
      config: aws.config,
      controlPlane: plane,
      tables,
      controlRegion: CONTROL_REGION,
      registryBucket: aws.bucketName,
      signingKeyId: REGISTRY_KEY_ALIAS,
      clients,
      metrics: recordingMetrics(),
      log: quietLog,
    });

    // Act
    const result = await publication.publishIfDue(initialFleetState(aws.config), Date.now());

    // Assess
    const euNodes = aws.config.nodes
      .map((node) => node.id)
      .filter((id) => id.includes('.eu-central.'));
    assert.equal(result.published, true);
    assert.deepEqual(result.published && result.listedNodeIds, euNodes);
    assert.deepEqual(
      problems.map((problem) => [problem.region, problem.nodeIds.length, problem.error.name]),
      [
        ['us-east-1', 2, 'AwsCallError'],
        ['ap-east-1', 2, 'AwsCallError'],
      ],
    );
    assert.match(problems[1]?.error.message ?? '', /AccessDeniedException/);
    const read = async (Key: string) => {
      const object = await clients
        .s3(CONTROL_REGION)
        .send(new GetObjectCommand({ Bucket: aws.bucketName, Key }));
      return (await object.Body?.transformToByteArray()) as Uint8Array;
    };
    const fleetsJson = parseFleetsJsonBytes(await read('fleets.json'));
    assert.deepEqual(Object.keys(fleetsJson.fleets[fleet]?.['tcp/p2p/waku/store'] ?? {}), euNodes);
    const registry = parseRegistryJson(
      JSON.parse(Buffer.from(await read('registry.json')).toString('utf8')),
    );
    const usNode = Object.entries(registry.nodes).find(([id]) => id.includes('.us-east.'));
    assert.equal(usNode?.[1].reason, 'no deployed address');
  });

  it('reads a region again as soon as its parameter is there', async () => {
    aws.writeAddressParameters(['us-east-1']);
    const book = await controlPlane().addresses();
    assert.equal(Object.keys(book).filter((id) => id.includes('.us-east.')).length, 2);
    assert.equal(Object.keys(book).filter((id) => id.includes('.ap-east.')).length, 0);
  });
});
