// The SSM control plane loader and the environment parsing: the calls we make, the cache, and errors that name what is wrong.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, it } from 'vitest';
import { FleetConfigError, parseFleetConfig } from '../../../fleet/config.ts';
import {
  ControlPlaneParameterError,
  SsmControlPlane,
} from '../../../lambdas/shared/control-plane.ts';
import {
  FunctionEnvironmentError,
  readFunctionEnvironment,
  readLoopSeconds,
} from '../../../lambdas/shared/environment.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const config = parseFleetConfig(
  JSON.parse(readFileSync(join(ROOT, 'config/fleet.example.json'), 'utf8')),
);
const CONFIG_PARAMETER = '/storefleet/storefleet-test/config';
const DEPLOYMENT_PARAMETER = '/storefleet/storefleet-test/deployment';
const topology = {
  fleet: config.fleet,
  controlRegion: 'eu-central-1',
  nodes: [
    {
      nodeId: 'store-01.eu-central.storefleet.test',
      region: 'eu-central-1',
      cluster: 'storefleet-storefleet-test',
      service: 'store-01-eu-central',
      addressesParameter: '/storefleet/storefleet-test/nodes/eu-central-1',
    },
    {
      nodeId: 'store-01.us-east.storefleet.test',
      region: 'us-east-1',
      cluster: 'storefleet-storefleet-test',
      service: 'store-01-us-east',
      addressesParameter: '/storefleet/storefleet-test/nodes/us-east-1',
    },
  ],
};
const clients = new Map<string, SSMClient>();
const mocks = new Map<string, ReturnType<typeof mockClient>>();
function clientFor(region: string): SSMClient {
  let client = clients.get(region);
  if (!client) {
    client = new SSMClient({ region });
    clients.set(region, client);
    mocks.set(region, mockClient(client));
  }
  return client;
}
for (const region of ['eu-central-1', 'us-east-1']) clientFor(region);

function parameters(values: Record<string, unknown>) {
  for (const [region, mock] of mocks) {
    mock.reset();
    mock.on(GetParameterCommand).callsFake((input: { Name: string }) => {
      const value = values[`${region}${input.Name}`];
      if (value === undefined) throw new Error(`no parameter ${input.Name} in ${region}`);
      return {
        Parameter: {
          Name: input.Name,
          Value: typeof value === 'string' ? value : JSON.stringify(value),
        },
      };
    });
  }
}

function loader(nowMs: () => number = Date.now) {
  return new SsmControlPlane({
    controlRegion: 'eu-central-1',
    configParameter: CONFIG_PARAMETER,
    deploymentParameter: DEPLOYMENT_PARAMETER,
    clientForRegion: clientFor,
    nowMs,
  });
}

beforeEach(() => {
  parameters({
    [`eu-central-1${CONFIG_PARAMETER}`]: config,
    [`eu-central-1${DEPLOYMENT_PARAMETER}`]: topology,
    'eu-central-1/storefleet/storefleet-test/nodes/eu-central-1': {
      'store-01.eu-central.storefleet.test': { ip: '3.120.0.1', tcp: 30303, websocket: 8000 },
    },
    'us-east-1/storefleet/storefleet-test/nodes/us-east-1': {
      'store-01.us-east.storefleet.test': { ip: '3.80.0.1', tcp: 30303, websocket: 8000 },
    },
  });
});

describe('reading the control plane from SSM', () => {
  it('asks for both parameters in the control region once per container (checks our calls, not AWS)', async () => {
    // Prepare
    const controlPlane = loader();

    // Act
    const first = await controlPlane.load();
    const second = await controlPlane.load();

    // Assess
    assert.equal(first.config.fleet, config.fleet);
    assert.equal(second, first);
    const names = mocks
      .get('eu-central-1')
      ?.commandCalls(GetParameterCommand)
      .map((call) => call.args[0].input.Name)
      .sort();
    assert.deepEqual(names, [CONFIG_PARAMETER, DEPLOYMENT_PARAMETER]);
  });

  it("reads each region's address parameter in that region and merges them (checks our calls, not AWS)", async () => {
    // Act
    const addresses = await loader().addresses();

    // Assess
    assert.deepEqual(Object.keys(addresses).sort(), [
      'store-01.eu-central.storefleet.test',
      'store-01.us-east.storefleet.test',
    ]);
    assert.equal(mocks.get('us-east-1')?.commandCalls(GetParameterCommand).length, 1);
  });

  it('reads again once the cache has aged (checks our calls, not AWS)', async () => {
    // Prepare
    let nowMs = 0;
    const controlPlane = loader(() => nowMs);
    await controlPlane.load();

    // Act
    nowMs += 10 * 60 * 1000;
    await controlPlane.load();

    // Assess
    assert.equal(mocks.get('eu-central-1')?.commandCalls(GetParameterCommand).length, 4);
  });

  it('names the parameter and the field when a parameter holds a bad config', async () => {
    // Prepare
    parameters({
      [`eu-central-1${CONFIG_PARAMETER}`]: { ...config, clusterId: -1 },
      [`eu-central-1${DEPLOYMENT_PARAMETER}`]: topology,
    });

    // Act and assess
    await assert.rejects(
      loader().load(),
      (error: Error) =>
        error instanceof FleetConfigError &&
        error.message.includes(CONFIG_PARAMETER) &&
        error.message.includes('clusterId'),
    );
  });

  it('names the parameter when it is not JSON', async () => {
    parameters({
      [`eu-central-1${CONFIG_PARAMETER}`]: 'not json',
      [`eu-central-1${DEPLOYMENT_PARAMETER}`]: topology,
    });
    await assert.rejects(
      loader().load(),
      (error: Error) =>
        error instanceof ControlPlaneParameterError && error.message.includes(CONFIG_PARAMETER),
    );
  });
});

describe('reading the function environment', () => {
  it('names every missing variable at once', () => {
    assert.throws(
      () => readFunctionEnvironment(['fleet', 'vantageId'], {}),
      (error: Error) =>
        error instanceof FunctionEnvironmentError &&
        error.message.includes('STOREFLEET_FLEET is not set') &&
        error.message.includes('STOREFLEET_VANTAGE_ID is not set'),
    );
  });

  it('names a loop length that is not a positive number', () => {
    assert.throws(
      () => readLoopSeconds(60, { STOREFLEET_LOOP_SECONDS: 'soon' }),
      /STOREFLEET_LOOP_SECONDS is "soon"/,
    );
    assert.equal(readLoopSeconds(60, {}), 60);
    assert.equal(readLoopSeconds(60, { STOREFLEET_LOOP_SECONDS: '30' }), 30);
  });
});
