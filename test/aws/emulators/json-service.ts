// A loopback HTTP server speaking the AWS JSON protocols (awsJson1_0/1_1): X-Amz-Target dispatch, SigV4 credential-scope region, AWS-shaped errors.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An error the emulated service answers with, as AWS would: `__type`, message and HTTP status. */
export class AwsFault extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'AwsFault';
    this.type = type;
    this.status = status;
  }
}

/** What a handler learns of the request besides its input. */
export interface RequestScope {
  /** The region of the SigV4 credential scope: the region the client was configured for. */
  region: string;
  service: string;
}

export type JsonOperation = (input: Record<string, unknown>, scope: RequestScope) => unknown;

/**
 * `AWS4-HMAC-SHA256 Credential=AKID/20261202/eu-central-1/dynamodb/aws4_request, ...` ->
 * `{ region: 'eu-central-1', service: 'dynamodb' }`; undefined for an unsigned request.
 */
export function credentialScope(req: IncomingMessage): RequestScope | undefined {
  const match = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
    req.headers.authorization ?? '',
  );
  return match ? { region: match[1] as string, service: match[2] as string } : undefined;
}

export function sendFault(res: ServerResponse, fault: AwsFault, contentType: string): void {
  const body = JSON.stringify({ __type: fault.type, message: fault.message });
  res.writeHead(fault.status, {
    'content-type': contentType,
    'x-amzn-errortype': fault.type,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export interface JsonServiceOptions {
  /** The X-Amz-Target prefix, e.g. `AmazonSSM` or `TrentService`. */
  targetPrefix: string;
  /** `application/x-amz-json-1.1` for SSM, KMS, ECS; `1.0` for DynamoDB and CloudWatch. */
  jsonVersion: '1.0' | '1.1';
  operations: Record<string, JsonOperation>;
  port: number;
  /** Regions this endpoint serves; a request signed for another fails as AWS fails it. */
  regions: readonly string[];
}

export interface RunningService {
  url: string;
  server: Server;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the service on 127.0.0.1:port.
 * @example
 * const ssm = await startJsonService({ targetPrefix: 'AmazonSSM', jsonVersion: '1.1', operations: { GetParameter }, port, regions });
 */
export async function startJsonService(options: JsonServiceOptions): Promise<RunningService> {
  const contentType = `application/x-amz-json-${options.jsonVersion}`;
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const scope = credentialScope(req);
        if (!scope)
          throw new AwsFault('MissingAuthenticationTokenException', 'Missing Authentication Token');
        if (!options.regions.includes(scope.region)) {
          throw new AwsFault(
            'InvalidSignatureException',
            `Credential should be scoped to a valid region. (this endpoint serves ${options.regions.join(', ')}; the request was signed for ${scope.region})`,
          );
        }
        const target = String(req.headers['x-amz-target'] ?? '');
        const [prefix, name] = target.split('.');
        const operation =
          prefix === options.targetPrefix && name ? options.operations[name] : undefined;
        if (!operation)
          throw new AwsFault('UnknownOperationException', `${target} is not emulated`);
        const text = await readBody(req);
        const output = await operation(text ? JSON.parse(text) : {}, scope);
        const body = JSON.stringify(output ?? {});
        res.writeHead(200, {
          'content-type': contentType,
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      } catch (error) {
        const fault =
          error instanceof AwsFault
            ? error
            : new AwsFault('InternalFailure', (error as Error).message ?? String(error), 500);
        sendFault(res, fault, contentType);
      }
    })();
  });
  return listen(server, options.port);
}

export async function listen(server: Server, port: number): Promise<RunningService> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
