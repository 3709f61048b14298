// Every AWS SDK client the runtime creates, each for an explicit region, one per (service, region) for the life of the process.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { FUNCTION_ENVIRONMENT } from '../../fleet/function-environment.ts';

export type AwsServiceName = 'cloudwatch' | 'dynamodb' | 'ecs' | 'kms' | 'lambda' | 's3' | 'ssm';

/** `{ service: { region: url } }`: where each service of each region is reached instead of amazonaws.com. */
const EndpointMapSchema = z.partialRecord(
  z.enum(['cloudwatch', 'dynamodb', 'ecs', 'kms', 'lambda', 's3', 'ssm']),
  z.record(z.string().min(1), z.url()),
);
export type AwsEndpointMap = z.infer<typeof EndpointMapSchema>;

/** STOREFLEET_AWS_ENDPOINTS is not a usable endpoint map, or names no endpoint for a region a client needs. */
export class AwsEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AwsEndpointError';
  }
}

/** Parses STOREFLEET_AWS_ENDPOINTS; undefined when unset (on AWS: the SDK's regional endpoints). */
export function endpointMapFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): AwsEndpointMap | undefined {
  const name = FUNCTION_ENVIRONMENT.awsEndpoints;
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch (error) {
    throw new AwsEndpointError(`${name} is not JSON (${(error as Error).message})`);
  }
  const parsed = EndpointMapSchema.safeParse(input);
  if (!parsed.success) {
    throw new AwsEndpointError(
      `${name} must map services to { region: url }: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/**
 * One client per (service, region). With an endpoint map (emulated AWS), a client may only be made
 * for a region the map lists for that service, as a client of region X only reaches X's endpoint.
 * @example
 * const clients = new AwsClients(endpointMapFromEnvironment());
 * const table = clients.dynamo(controlRegion);
 */
export class AwsClients {
  readonly #endpoints: AwsEndpointMap | undefined;
  readonly #clients = new Map<string, { destroy(): void }>();

  constructor(endpoints?: AwsEndpointMap) {
    this.#endpoints = endpoints;
  }

  /** True when the clients talk to local endpoints rather than AWS. */
  get emulated(): boolean {
    return this.#endpoints !== undefined;
  }

  dynamo(region: string): DynamoDBDocumentClient {
    return this.#client('dynamodb', region, (config) =>
      DynamoDBDocumentClient.from(new DynamoDBClient(config), {
        marshallOptions: { removeUndefinedValues: true },
      }),
    );
  }

  /** The plain DynamoDB client (Powertools Idempotency marshals itself). */
  dynamoRaw(region: string): DynamoDBClient {
    return this.#client('dynamodb', region, (config) => new DynamoDBClient(config), 'raw');
  }

  ssm(region: string): SSMClient {
    return this.#client('ssm', region, (config) => new SSMClient(config));
  }

  ecs(region: string): ECSClient {
    return this.#client('ecs', region, (config) => new ECSClient(config));
  }

  kms(region: string): KMSClient {
    return this.#client('kms', region, (config) => new KMSClient(config));
  }

  lambda(region: string): LambdaClient {
    return this.#client('lambda', region, (config) => new LambdaClient(config));
  }

  cloudwatch(region: string): CloudWatchClient {
    return this.#client('cloudwatch', region, (config) => new CloudWatchClient(config));
  }

  s3(region: string): S3Client {
    return this.#client('s3', region, (config) =>
      this.emulated
        ? new S3Client({
            ...config,
            // Local S3 servers answer on one host, not BUCKET.s3.REGION.amazonaws.com, and predate
            // the SDK's default CRC checksums.
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          })
        : new S3Client(config),
    );
  }

  /** Closes every client's sockets. */
  destroy(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
  }

  #client<T extends { destroy(): void }>(
    service: AwsServiceName,
    region: string,
    create: (config: { region: string; endpoint?: string }) => T,
    variant = '',
  ): T {
    if (!region) throw new AwsEndpointError(`a ${service} client needs a region; none was given`);
    const key = `${service}|${region}|${variant}`;
    let client = this.#clients.get(key) as T | undefined;
    if (!client) {
      client = create({ region, ...this.#endpointOf(service, region) });
      this.#clients.set(key, client);
    }
    return client;
  }

  #endpointOf(service: AwsServiceName, region: string): { endpoint?: string } {
    if (!this.#endpoints) return {};
    const endpoint = this.#endpoints[service]?.[region];
    if (endpoint === undefined) {
      throw new AwsEndpointError(
        `${FUNCTION_ENVIRONMENT.awsEndpoints} has no ${service} endpoint for ${region} (has: ${Object.keys(this.#endpoints[service] ?? {}).join(', ') || 'none'}); a client of one region cannot reach another's`,
      );
    }
    return { endpoint };
  }
}
