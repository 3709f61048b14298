// Lambda entry of the publisher: wires the publisher handler to SSM, DynamoDB, KMS and S3.
import { FleetStateSchema } from '../../fleet/state.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { KmsRegistrySigner } from '../adapters/KmsRegistrySigner.ts';
import { logger } from '../adapters/logger.ts';
import { S3RegistryPublisher } from '../adapters/S3RegistryPublisher.ts';
import { controlPlaneFromEnvironment, metricsFromEnvironment } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { DynamoFleetSettings } from '../shared/fleet-settings.ts';
import { DynamoNodeDirectory } from '../shared/node-directory.ts';
import { createPublisherHandler, type PublisherHandlerDeps } from './publisher-handler.ts';

export function defaultPublisherDependencies(
  env: NodeJS.ProcessEnv = process.env,
): PublisherHandlerDeps {
  const values = readFunctionEnvironment(
    ['fleet', 'probeResultsTable', 'nodeStateTable', 'registryBucket', 'signingKeyId'],
    env,
  );
  return {
    controlPlane: controlPlaneFromEnvironment(env),
    store: new DynamoStateStore({
      fleet: values.fleet,
      nodeStateTableName: values.nodeStateTable,
      probeResultsTableName: values.probeResultsTable,
      stateSchema: FleetStateSchema,
    }),
    settings: new DynamoFleetSettings({
      fleet: values.fleet,
      nodeStateTableName: values.nodeStateTable,
    }),
    directory: new DynamoNodeDirectory({
      fleet: values.fleet,
      probeResultsTableName: values.probeResultsTable,
    }),
    signer: new KmsRegistrySigner({ keyId: values.signingKeyId }),
    publisher: new S3RegistryPublisher({ bucketName: values.registryBucket }),
    nowMs: Date.now,
    metrics: metricsFromEnvironment(env),
    log: logger,
  };
}

export const handler = createPublisherHandler(defaultPublisherDependencies());
