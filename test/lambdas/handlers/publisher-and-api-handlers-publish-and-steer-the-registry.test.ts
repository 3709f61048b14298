// The publisher and API handlers: a signed fleets.json in s3rver for the listed local nodes, republished when due, steered by operator drains.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { p256 } from '@noble/curves/nist.js';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { identityFromInfo } from '../../../control/node-addresses.ts';
import { METRICS } from '../../../fleet/metrics.ts';
import {
  decodeSignatureFile,
  parseFleetsJsonBytes,
  verifyRegistrySignature,
} from '../../../fleet/registry/index.ts';
import { EmfMetricsSink } from '../../../lambdas/adapters/EmfMetricsSink.ts';
import { KmsRegistrySigner } from '../../../lambdas/adapters/KmsRegistrySigner.ts';
import { S3RegistryPublisher } from '../../../lambdas/adapters/S3RegistryPublisher.ts';
import { createApiHandler } from '../../../lambdas/api/api-app.ts';
import {
  createPublisherHandler,
  republishAfterMs,
} from '../../../lambdas/publisher/publisher-handler.ts';
import { invokeAsync } from '../../../lambdas/shared/aws-wiring.ts';
import { info } from '../../../waku/client/rest.ts';
import { captureStdout } from '../adapters/capture-stdout.ts';
import { type S3Emulator, startS3Emulator } from '../adapters/s3rver-emulator.ts';
import {
  FLEET,
  fakeContext,
  type LocalFleet,
  NODE_IDS,
  quietLog,
  startLocalFleet,
} from './local-fleet-fixture.ts';

const BUCKET = 'storefleet-registry';
const KEY_ID = 'alias/storefleet/storefleet.test/registry';
const kmsClient = new KMSClient({ region: 'eu-central-1' });
const kms = mockClient(kmsClient);
const lambdaClient = new LambdaClient({ region: 'eu-central-1' });
const lambda = mockClient(lambdaClient);
// Stands in for the key inside KMS.
const localKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const localPublicKeyPem = localKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const localSecretKey = Buffer.from(
  localKey.privateKey.export({ format: 'jwk' }).d as string,
  'base64url',
);

let fleet: LocalFleet;
let s3: S3Emulator;
let nowMs = Date.now();

function publisherHandler() {
  return createPublisherHandler({
    controlPlane: fleet.controlPlane,
    store: fleet.store,
    settings: fleet.settings,
    directory: fleet.directory,
    signer: new KmsRegistrySigner({ keyId: KEY_ID, client: kmsClient }),
    publisher: new S3RegistryPublisher({ bucketName: BUCKET, client: s3.client }),
    nowMs: () => nowMs,
    metrics: new EmfMetricsSink({ fleet: FLEET }),
    log: quietLog,
  });
}

async function readObject(key: string): Promise<Uint8Array> {
  const output = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await output.Body?.transformToByteArray()) as Uint8Array;
}

/** A function URL request (payload format 2.0), typed as the hono adapter expects its events. */
function apiRequest(method: string, path: string, body?: unknown): ApiEvent {
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example', 'content-type': 'application/json' },
    requestContext: {
      accountId: '111122223333',
      apiId: 'url',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'request',
      routeKey: '$default',
      stage: '$default',
      time: '21/Nov/2026:05:00:00 +0000',
      timeEpoch: nowMs,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  };
  return event as unknown as ApiEvent;
}
type ApiEvent = Parameters<ReturnType<typeof createApiHandler>>[0];

const api = () =>
  createApiHandler({
    controlPlane: fleet.controlPlane,
    store: fleet.store,
    settings: fleet.settings,
    invokeStress: (request) => invokeAsync(lambdaClient, 'storefleet-stress', request),
  });

beforeAll(async () => {
  fleet = await startLocalFleet();
  s3 = await startS3Emulator([BUCKET]);
  // What a REST-reaching prober records: each node's own answer to GET /debug/v1/info.
  for (const [nodeId, node] of fleet.nodes) {
    const reply = await info(node.restUrl, { signal: AbortSignal.timeout(5000) });
    await fleet.directory.record(identityFromInfo(nodeId, reply, Date.now()));
  }
});

afterAll(async () => {
  await s3.close();
  await fleet.close();
});

beforeEach(() => {
  kms.reset();
  lambda.reset();
  kms.on(GetPublicKeyCommand).resolves({
    KeySpec: 'ECC_NIST_P256',
    KeyUsage: 'SIGN_VERIFY',
    SigningAlgorithms: ['ECDSA_SHA_256'],
    PublicKey: new Uint8Array(localKey.publicKey.export({ type: 'spki', format: 'der' })),
  });
  // Like KMS with MessageType DIGEST: ECDSA over the SHA-256 it is sent, DER-encoded.
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array; MessageType: string }) => {
    assert.equal(input.MessageType, 'DIGEST');
    return {
      Signature: p256.sign(input.Message, localSecretKey, { prehash: false, format: 'der' }),
    };
  });
});

describe('the publisher handler', () => {
  it('publishes a fleets.json of the listed nodes whose signature verifies, and reports the publication', async () => {
    // Prepare
    const handler = publisherHandler();

    // Act
    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const stdout = await captureStdout(async () => {
      result = await handler({}, fakeContext('publisher', { nowMs: () => nowMs }));
    });

    // Assess
    assert.equal(result?.published, true);
    const bytes = await readObject('fleets.json');
    const signature = decodeSignatureFile(await readObject('fleets.json.sig'));
    assert.ok(signature && verifyRegistrySignature(bytes, signature, localPublicKeyPem));
    const document = parseFleetsJsonBytes(bytes);
    const store = document.fleets[FLEET]?.['tcp/p2p/waku/store'] ?? {};
    for (const [nodeId, node] of fleet.nodes) {
      const tcpPort = fleet.addresses[nodeId]?.tcp;
      assert.equal(store[nodeId], `/ip4/127.0.0.1/tcp/${tcpPort}/p2p/${node.peerId}`);
    }
    const emf = stdout.filter((line) => line.includes('_aws')).map((line) => JSON.parse(line));
    assert.ok(emf.some((record) => record[METRICS.registryPublications] === 1));
    assert.ok(emf.some((record) => record[METRICS.registryHealthyNodes] === 2));
  });

  it('leaves an unchanged registry alone until it is due, then republishes it', async () => {
    // Prepare
    const handler = publisherHandler();

    // Act
    const unchanged = await handler({}, fakeContext('publisher', { nowMs: () => nowMs }));
    nowMs += republishAfterMs(fleet.config);
    const due = await captureStdout(async () => {
      const result = await handler({}, fakeContext('publisher', { nowMs: () => nowMs }));
      assert.deepEqual(result.published ? [result.why, result.sequence] : result, ['due', 2]);
    });

    // Assess
    assert.deepEqual(unchanged, { published: false, reason: 'unchanged', sequence: 1 });
    assert.ok(due.some((line) => line.includes(`"${METRICS.registryPublications}":1`)));
  });
});

describe('the API handler', () => {
  it('lists the nodes with their state over a function URL event', async () => {
    // Act
    const response = await api()(apiRequest('GET', '/api/nodes'), {} as never);

    // Assess
    assert.equal(response.statusCode, 200);
    const body = JSON.parse(response.body as string);
    assert.deepEqual(body.listedNodeIds, NODE_IDS);
    assert.equal(body.nodes.length, 2);
  });

  it('starts a stress test on the stress function without waiting for it (checks our calls, not AWS)', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const request = {
      nodeId: NODE_IDS[0],
      rate: 10,
      durationSeconds: 1,
      connections: 1,
      transport: 'libp2p',
    };

    // Act
    const response = await api()(apiRequest('POST', '/api/stress', request), {} as never);

    // Assess
    assert.equal(response.statusCode, 202);
    const calls = lambda.commandCalls(InvokeCommand);
    assert.equal(calls.length, 1);
    const input = calls[0]?.args[0].input;
    assert.equal(input?.FunctionName, 'storefleet-stress');
    assert.equal(input?.InvocationType, 'Event');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array)), request);
  });

  it('refuses a stress rate above the cap, naming the field', async () => {
    // Act
    const response = await api()(
      apiRequest('POST', '/api/stress', {
        nodeId: NODE_IDS[0],
        rate: 1000,
        durationSeconds: 1,
        connections: 1,
        transport: 'libp2p',
      }),
      {} as never,
    );

    // Assess
    assert.equal(response.statusCode, 400);
    assert.match(response.body as string, /rate.*stress\.maxRatePerSecond \(100\)/);
    assert.equal(lambda.commandCalls(InvokeCommand).length, 0);
  });

  it('drains a node by hand, and the next publication leaves it out; a second drain is refused below minHealthy', async () => {
    // Act
    const drained = await api()(apiRequest('POST', `/api/nodes/${NODE_IDS[1]}/drain`), {} as never);
    const refused = await api()(apiRequest('POST', `/api/nodes/${NODE_IDS[0]}/drain`), {} as never);
    let published: Awaited<ReturnType<ReturnType<typeof publisherHandler>>> | undefined;
    await captureStdout(async () => {
      published = await publisherHandler()({}, fakeContext('publisher', { nowMs: () => nowMs }));
    });

    // Assess
    assert.equal(drained.statusCode, 200);
    assert.equal(refused.statusCode, 409);
    assert.ok(published?.published && published.why === 'changed');
    const document = parseFleetsJsonBytes(await readObject('fleets.json'));
    assert.deepEqual(Object.keys(document.fleets[FLEET]?.['tcp/p2p/waku/store'] ?? {}), [
      NODE_IDS[0],
    ]);
  });
});
