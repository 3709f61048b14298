// The AWS wiring on one machine for end-to-end tests: emulated AWS, one watcher per vantage point (the real entry function, real SDK clients), and a client reading fleets.json from the bucket.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type FleetConfig, parseFleetConfig } from '../../fleet/config.ts';
import type { MetricsSink } from '../../fleet/ports.ts';
import {
  decodeSignatureFile,
  parseFleetsJsonBytes,
  verifyRegistrySignature,
} from '../../fleet/registry/index.ts';
import { type FleetState, FleetStateSchema } from '../../fleet/state.ts';
import { nodeStateTableName, probeResultsTableName } from '../../infra/resource-names.ts';
import { DynamoStateStore } from '../../lambdas/adapters/DynamoStateStore.ts';
import { versionKeys } from '../../lambdas/adapters/S3RegistryPublisher.ts';
import { AwsClients } from '../../lambdas/shared/aws-clients.ts';
import type { ContainerDialer } from '../../lambdas/shared/container-dialer.ts';
import type { HandlerLog } from '../../lambdas/shared/invocation.ts';
import { type AwsWatcher, startAwsWatcher } from '../../lambdas/watcher/aws-watcher.ts';
import { TrafficGenerator } from '../../local/traffic.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { ConnectionRefusedError } from '../../waku/errors.ts';
import { fastFleetConfig } from '../e2e/fleet-harness.ts';
import { EMULATED_CREDENTIALS, type EmulatedAws, startEmulatedAws } from './emulated-aws.ts';

export const CONTROL_REGION = 'eu-central-1';

/** The local e2e suite's fast fleet: six nodes and three vantage points in three regions, one of them the control region. */
export function fastAwsFleetConfig(): FleetConfig {
  return parseFleetConfig(fastFleetConfig(6));
}

/** A log that keeps every line, for assertions and for whoever investigates a failure. */
export function recordingLog(prefix: string, lines: string[]): HandlerLog {
  const write = (level: string) => (message: string, attributes: Record<string, unknown>) => {
    lines.push(`${prefix} ${level} ${message} ${JSON.stringify(attributes)}`);
  };
  return { info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
}

const silentMetrics: MetricsSink = { record: () => {}, flush: async () => {} };

export interface AwsFleet {
  aws: EmulatedAws;
  watchers: Map<string, AwsWatcher>;
  lines: string[];
  /** The fleet state as the control region's table holds it. */
  state(): Promise<FleetState>;
  /** Cuts a vantage point off: every probe it makes fails, as for a task whose network broke. */
  blind(vantageId: string): void;
  clear(vantageId: string): void;
  stop(): Promise<void>;
}

/**
 * @example
 * const fleet = await startAwsFleet({ basePort: 46100, dataDir });
 * fleet.aws.runtime.killNode(nodeId);
 */
export async function startAwsFleet(options: {
  basePort: number;
  dataDir: string;
  config?: FleetConfig;
}): Promise<AwsFleet> {
  const lines: string[] = [];
  // The SDK's default credential chain reads these, as it reads the task role on ECS.
  process.env.AWS_ACCESS_KEY_ID = EMULATED_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATED_CREDENTIALS.secretAccessKey;
  const aws = await startEmulatedAws({
    config: options.config ?? fastAwsFleetConfig(),
    controlRegion: CONTROL_REGION,
    basePort: options.basePort,
    dataDir: options.dataDir,
    log: (line) => lines.push(`ecs ${line}`),
  });
  const blinded = new Set<string>();
  const watchers = new Map<string, AwsWatcher>();
  const traffic = new TrafficGenerator({
    contentTopics: aws.config.probe.contentTopics,
    ratePerSecond: 2,
    targets: () =>
      aws.config.nodes
        .filter((node) => aws.ecs.taskStateOf(node.id) === 'running')
        .flatMap((node) => {
          const restUrl = aws.runtime.addressesOf(node.id)?.restUrl;
          return restUrl ? [restUrl] : [];
        }),
  });
  try {
    for (const vantage of aws.config.vantagePoints) {
      const blindable = async (dialerOptions: { clusterId: number; shards: number[] }) =>
        blindableDialer(
          await createProbeDialer(dialerOptions),
          () => blinded.has(vantage.id),
          vantage.id,
        );
      watchers.set(
        vantage.id,
        await startAwsWatcher({
          env: aws.environment(),
          vantageId: vantage.id,
          log: recordingLog(vantage.id, lines),
          metrics: silentMetrics,
          createDialer: blindable,
        }),
      );
    }
    traffic.start();
  } catch (error) {
    await Promise.allSettled([...watchers.values()].map((watcher) => watcher.stop()));
    await aws.close();
    throw error;
  }
  const clients = new AwsClients(aws.endpoints);
  const store = new DynamoStateStore<FleetState>({
    fleet: aws.config.fleet,
    nodeStateTableName: nodeStateTableName(aws.config.fleet),
    probeResultsTableName: probeResultsTableName(aws.config.fleet),
    stateSchema: FleetStateSchema,
    client: clients.dynamo(CONTROL_REGION),
  });
  return {
    aws,
    watchers,
    lines,
    state: async () => {
      const loaded = await store.loadFleetState();
      if (!loaded.state) throw new Error('no fleet state saved yet');
      return loaded.state;
    },
    blind: (vantageId) => blinded.add(vantageId),
    clear: (vantageId) => blinded.delete(vantageId),
    stop: async () => {
      await traffic.stop();
      await Promise.allSettled([...watchers.values()].map((watcher) => watcher.stop()));
      clients.destroy();
      await aws.close();
    },
  };
}

function blindableDialer(
  dialer: ContainerDialer,
  isBlind: () => boolean,
  vantageId: string,
): ContainerDialer {
  const refuse = (address: string) =>
    Promise.reject(
      new ConnectionRefusedError(`${address} (vantage point ${vantageId} is cut off)`),
    );
  return {
    ping: (address, options) => (isBlind() ? refuse(address) : dialer.ping(address, options)),
    metadata: (address, options) =>
      isBlind() ? refuse(address) : dialer.metadata(address, options),
    storeQuery: (address, query, options) =>
      isBlind() ? refuse(address) : dialer.storeQuery(address, query, options),
    learnPeerId: (address, options) =>
      isBlind() ? refuse(address) : dialer.learnPeerId(address, options),
    stop: () => dialer.stop(),
  };
}

export interface BucketVersion {
  sequence: number;
  listed: string[];
  signatureVerified: boolean;
}

/** Reads fleets.json from the bucket as a client behind CloudFront would, and checks each new version. */
export class BucketRegistryWatcher {
  readonly versions: BucketVersion[] = [];
  readonly problems: string[] = [];
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #fleet: string;
  readonly #publicKeyPem: string;
  #etag = '';
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();

  constructor(aws: EmulatedAws) {
    this.#client = new AwsClients(aws.endpoints).s3(aws.controlRegion);
    this.#bucket = aws.bucketName;
    this.#fleet = aws.config.fleet;
    this.#publicKeyPem = aws.publicKeyPem;
  }

  get latest(): BucketVersion | undefined {
    return this.versions.at(-1);
  }

  start(intervalMs = 200): void {
    this.#timer = setInterval(() => {
      this.#polling = this.#polling
        .then(() => this.poll())
        .catch((error: unknown) => {
          // 304: unchanged since the ETag we hold; 404: nothing published yet.
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
            ?.httpStatusCode;
          if (status !== 304 && status !== 404) {
            this.problems.push(`poll failed: ${(error as Error).message}`);
          }
        });
    }, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
    this.#client.destroy();
  }

  async poll(): Promise<void> {
    const object = await this.#client.send(
      new GetObjectCommand({
        Bucket: this.#bucket,
        Key: 'fleets.json',
        ...(this.#etag ? { IfNoneMatch: this.#etag } : {}),
      }),
    );
    if (object.ETag === this.#etag) return;
    const bytes = await object.Body?.transformToByteArray();
    if (!bytes) return;
    const document = parseFleetsJsonBytes(bytes);
    const sequence = document.meta.sequence ?? 0;
    const signature = await this.#signatureOf(sequence);
    const verified = verifyRegistrySignature(bytes, signature, this.#publicKeyPem);
    const listed = Object.keys(document.fleets[this.#fleet]?.['tcp/p2p/waku/store'] ?? {});
    const previous = this.latest;
    if (!verified) this.problems.push(`sequence ${sequence}: signature does not verify`);
    if (previous && sequence <= previous.sequence) {
      this.problems.push(`sequence went from ${previous.sequence} to ${sequence}`);
    }
    this.versions.push({ sequence, listed, signatureVerified: verified });
    this.#etag = object.ETag ?? '';
  }

  /** The version's own signature, named by the sequence inside the signed bytes: never another version's. */
  async #signatureOf(sequence: number): Promise<Uint8Array> {
    const object = await this.#client.send(
      new GetObjectCommand({ Bucket: this.#bucket, Key: versionKeys(sequence).signature }),
    );
    return (
      decodeSignatureFile((await object.Body?.transformToByteArray()) ?? new Uint8Array()) ??
      new Uint8Array()
    );
  }
}
