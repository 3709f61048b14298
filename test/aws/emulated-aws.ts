// AWS on one machine: per-region DynamoDB, S3, SSM, KMS, CloudWatch and an ECS whose services are real local store nodes, with the parameters the CDK app would write.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DeployedAddressBook } from '../../control/node-addresses.ts';
import { type FleetConfig, parseFleetConfig, resolveNodes } from '../../fleet/config.ts';
import { type DeploymentTopology, FUNCTION_ENVIRONMENT } from '../../fleet/function-environment.ts';
import {
  clusterName,
  configParameterName,
  deploymentParameterName,
  nodeAddressesParameterName,
  nodeSlug,
  nodeStateTableName,
  probeResultsTableName,
} from '../../infra/resource-names.ts';
import type { AwsEndpointMap } from '../../lambdas/shared/aws-clients.ts';
import { type NodePortAssignment, ProcessRuntime } from '../../local/process-runtime.ts';
import { type CloudWatchEmulator, startCloudWatchEmulator } from './emulators/cloudwatch.ts';
import {
  createStorefleetTables,
  type RegionalDynamo,
  startRegionalDynamo,
} from './emulators/dynamo-regions.ts';
import { type EcsEmulator, startEcsEmulator } from './emulators/ecs.ts';
import { type KmsEmulator, startKmsEmulator } from './emulators/kms.ts';
import { startConditionalS3Front } from './emulators/s3-conditional-writes.ts';
import { type SsmEmulator, startSsmEmulator } from './emulators/ssm.ts';

const require = createRequire(import.meta.url);
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = require('s3rver') as new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

/**
 * Credentials every emulated client signs with: s3rver checks signatures against its one built-in
 * account; the other emulators check the region of the credential scope, not the key.
 */
export const EMULATED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const REGISTRY_KEY_ALIAS = 'alias/storefleet/registry';

/** Port offsets from basePort; store nodes take three ports each from NODE_PORTS_OFFSET on. */
const PORTS = { dynamo: 0, ssm: 10, kms: 11, ecs: 12, s3: 13, cloudwatch: 14, s3rver: 15 } as const;
const NODE_PORTS_OFFSET = 20;
const MAX_REGIONS = 10;

export interface EmulatedAwsOptions {
  /** The fleet as the operator wrote it; its nodes get local ports. */
  config: FleetConfig;
  /** Where the control stack lives: tables, bucket, key, config and deployment parameters. */
  controlRegion: string;
  /** Every port is basePort plus a fixed offset, so runs are repeatable. */
  basePort: number;
  /** Node archives, keys and logs, and the S3 bucket's files. */
  dataDir: string;
  log?: (line: string) => void;
  /** Start the store nodes (ECS services' tasks). @default true */
  startNodes?: boolean;
}

export interface EmulatedAws {
  /** The config as stored in SSM: the operator's, with each node's local ports. */
  config: FleetConfig;
  topology: DeploymentTopology;
  controlRegion: string;
  regions: string[];
  endpoints: AwsEndpointMap;
  bucketName: string;
  /** The environment the CDK app would give a watcher task or function, plus the endpoint map and credentials. */
  environment(extra?: Record<string, string>): Record<string, string>;
  ssm: SsmEmulator;
  kms: KmsEmulator;
  ecs: EcsEmulator;
  cloudwatch: CloudWatchEmulator;
  dynamo: Map<string, RegionalDynamo>;
  s3Url: string;
  runtime: ProcessRuntime;
  /** PEM of the registry key in KMS. */
  publicKeyPem: string;
  /** Writes every region's address parameter from the nodes' ports (StoreNodeFleet does it on deploy). */
  writeAddressParameters(regions?: readonly string[]): void;
  close(): Promise<void>;
}

/** Vantage points and nodes decide the regions; the control region comes first. */
function fleetRegions(config: FleetConfig, controlRegion: string): string[] {
  const regions = new Set<string>([controlRegion]);
  for (const node of resolveNodes(config)) regions.add(node.region);
  for (const vantage of config.vantagePoints) regions.add(vantage.region);
  return [...regions];
}

/**
 * Starts every emulator and the store nodes (as ECS services), and writes what `cdk deploy` would.
 * @example
 * const aws = await startEmulatedAws({ config, controlRegion: 'eu-central-1', basePort: 46100, dataDir });
 * const env = aws.environment({ STOREFLEET_VANTAGE_ID: 'vp-us' });
 */
export async function startEmulatedAws(options: EmulatedAwsOptions): Promise<EmulatedAws> {
  const { basePort, controlRegion } = options;
  const regions = fleetRegions(options.config, controlRegion);
  if (regions.length > MAX_REGIONS) throw new Error(`at most ${MAX_REGIONS} regions are emulated`);
  const ports = new Map<string, NodePortAssignment>();
  options.config.nodes.forEach((node, index) => {
    const first = basePort + NODE_PORTS_OFFSET + index * 3;
    ports.set(node.id, { tcp: first, websocket: first + 1, rest: first + 2 });
  });
  const config = parseFleetConfig({
    ...options.config,
    nodes: options.config.nodes.map((node) => ({ ...node, ports: ports.get(node.id) })),
  });
  const fleet = config.fleet;
  const services = resolveNodes(config).map((node) => ({
    nodeId: node.id,
    region: node.region,
    cluster: clusterName(fleet),
    service: nodeSlug(node, fleet),
  }));
  const topology: DeploymentTopology = {
    fleet,
    controlRegion,
    nodes: resolveNodes(config).map((node) => ({
      nodeId: node.id,
      region: node.region,
      cluster: clusterName(fleet),
      service: nodeSlug(node, fleet),
      addressesParameter: nodeAddressesParameterName(fleet, node.region),
    })),
  };
  const bucketName = `storefleet-${fleet.replaceAll('.', '-')}-registry`;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => {});
  };
  try {
    const dynamo = new Map<string, RegionalDynamo>();
    for (const [index, region] of regions.entries()) {
      const regional = await startRegionalDynamo(region, basePort + PORTS.dynamo + index);
      closers.push(() => regional.close());
      dynamo.set(region, regional);
    }
    // Tables exist in the control region only, as the control stack creates them.
    await createStorefleetTables(
      dynamo.get(controlRegion) as RegionalDynamo,
      [nodeStateTableName(fleet), probeResultsTableName(fleet)],
      EMULATED_CREDENTIALS,
    );
    const ssm = await startSsmEmulator({ port: basePort + PORTS.ssm, regions });
    closers.push(() => ssm.close());
    const kms = await startKmsEmulator({ port: basePort + PORTS.kms, regions });
    closers.push(() => kms.close());
    kms.createKey(controlRegion, REGISTRY_KEY_ALIAS);
    const cloudwatch = await startCloudWatchEmulator({
      port: basePort + PORTS.cloudwatch,
      regions,
    });
    closers.push(() => cloudwatch.close());
    const bucketDir = join(options.dataDir, 's3');
    mkdirSync(bucketDir, { recursive: true });
    const s3 = new S3rver({
      port: basePort + PORTS.s3rver,
      address: '127.0.0.1',
      silent: true,
      directory: bucketDir,
      configureBuckets: [{ name: bucketName }],
    });
    const s3Address = await s3.run();
    closers.push(() => s3.close());
    const s3Front = await startConditionalS3Front({
      port: basePort + PORTS.s3,
      s3rverUrl: `http://127.0.0.1:${s3Address.port}`,
    });
    closers.push(() => s3Front.close());
    const s3Url = s3Front.url;

    const runtime = new ProcessRuntime({
      config,
      rootDir: options.dataDir,
      adminToken: 'storefleet-emulated-admin',
      knownPorts: Object.fromEntries(ports),
      ...(options.log ? { log: options.log } : {}),
    });
    closers.push(() => runtime.stopAll());
    const ecs = await startEcsEmulator({ port: basePort + PORTS.ecs, regions, services, runtime });
    closers.push(() => ecs.close());
    if (options.startNodes !== false) await runtime.startAll();

    const every = (url: string) => Object.fromEntries(regions.map((region) => [region, url]));
    const endpoints: AwsEndpointMap = {
      dynamodb: Object.fromEntries([...dynamo].map(([region, regional]) => [region, regional.url])),
      ssm: every(ssm.url),
      kms: every(kms.url),
      ecs: every(ecs.url),
      cloudwatch: every(cloudwatch.url),
      s3: every(s3Url),
    };
    ssm.put(controlRegion, configParameterName(fleet), JSON.stringify(config));
    ssm.put(controlRegion, deploymentParameterName(fleet), JSON.stringify(topology));
    const writeAddressParameters = (only: readonly string[] = regions) => {
      const books = new Map<string, DeployedAddressBook>();
      for (const node of resolveNodes(config)) {
        if (!only.includes(node.region)) continue;
        const book = books.get(node.region) ?? {};
        book[node.id] = { ip: '127.0.0.1', tcp: node.ports.tcp, websocket: node.ports.websocket };
        books.set(node.region, book);
      }
      for (const [region, book] of books) {
        ssm.put(region, nodeAddressesParameterName(fleet, region), JSON.stringify(book));
      }
    };
    writeAddressParameters();
    return {
      config,
      topology,
      controlRegion,
      regions,
      endpoints,
      bucketName,
      environment: (extra = {}) => ({
        [FUNCTION_ENVIRONMENT.fleet]: fleet,
        [FUNCTION_ENVIRONMENT.controlRegion]: controlRegion,
        [FUNCTION_ENVIRONMENT.configParameter]: configParameterName(fleet),
        [FUNCTION_ENVIRONMENT.deploymentParameter]: deploymentParameterName(fleet),
        [FUNCTION_ENVIRONMENT.probeResultsTable]: probeResultsTableName(fleet),
        [FUNCTION_ENVIRONMENT.nodeStateTable]: nodeStateTableName(fleet),
        [FUNCTION_ENVIRONMENT.registryBucket]: bucketName,
        [FUNCTION_ENVIRONMENT.signingKeyId]: REGISTRY_KEY_ALIAS,
        [FUNCTION_ENVIRONMENT.nodeRestHost]: '127.0.0.1',
        [FUNCTION_ENVIRONMENT.awsEndpoints]: JSON.stringify(endpoints),
        AWS_ACCESS_KEY_ID: EMULATED_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMULATED_CREDENTIALS.secretAccessKey,
        ...extra,
      }),
      ssm,
      kms,
      ecs,
      cloudwatch,
      dynamo,
      s3Url,
      runtime,
      publicKeyPem: kms.publicKeyPem(controlRegion, REGISTRY_KEY_ALIAS),
      writeAddressParameters,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
