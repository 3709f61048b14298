// Lambda entry of the publisher: wires the publisher handler to SSM, DynamoDB, KMS and S3.
import { KmsRegistrySigner } from '../adapters/KmsRegistrySigner.ts';
import { S3RegistryPublisher } from '../adapters/S3RegistryPublisher.ts';
import { defaultHandlerDependencies, dynamoFleetStateStore } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { dynamoFleetSettings } from '../shared/fleet-settings.ts';
import { dynamoNodeDirectory } from '../shared/node-directory.ts';
import { createPublisherHandler, type PublisherHandlerDeps } from './publisher-handler.ts';

export function defaultPublisherDependencies(
  env: NodeJS.ProcessEnv = process.env,
): PublisherHandlerDeps {
  const values = readFunctionEnvironment(
    ['fleet', 'probeResultsTable', 'nodeStateTable', 'registryBucket', 'signingKeyId'],
    env,
  );
  return {
    ...defaultHandlerDependencies(env),
    store: dynamoFleetStateStore(values),
    settings: dynamoFleetSettings(values),
    directory: dynamoNodeDirectory(values),
    signer: new KmsRegistrySigner({ keyId: values.signingKeyId }),
    publisher: new S3RegistryPublisher({ bucketName: values.registryBucket }),
    nowMs: Date.now,
  };
}

export const handler = createPublisherHandler(defaultPublisherDependencies());
