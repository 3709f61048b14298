// An SSM emulator (awsJson1_1): parameters kept per region, read with GetParameter and GetParameters as the control plane reads them.
import { AwsFault, type RunningService, startJsonService } from './json-service.ts';

export interface SsmEmulator extends RunningService {
  /** Writes a parameter in one region, as the CDK app's StringParameter would. */
  put(region: string, name: string, value: string): void;
  /** Makes a parameter unreadable (AccessDeniedException), as a missing IAM grant would. */
  deny(region: string, name: string): void;
  remove(region: string, name: string): void;
}

export async function startSsmEmulator(options: {
  port: number;
  regions: readonly string[];
}): Promise<SsmEmulator> {
  const parameters = new Map<string, { value: string; version: number }>();
  const denied = new Set<string>();
  const keyOf = (region: string, name: string) => `${region}|${name}`;
  const read = (region: string, name: unknown) => {
    if (typeof name !== 'string' || name === '') {
      throw new AwsFault('ValidationException', 'Name must be a non-empty string');
    }
    if (denied.has(keyOf(region, name))) {
      throw new AwsFault(
        'AccessDeniedException',
        `User is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:${region}:000000000000:parameter${name}`,
      );
    }
    const found = parameters.get(keyOf(region, name));
    return found
      ? { Name: name, Type: 'String', Value: found.value, Version: found.version, DataType: 'text' }
      : undefined;
  };
  const service = await startJsonService({
    targetPrefix: 'AmazonSSM',
    jsonVersion: '1.1',
    port: options.port,
    regions: options.regions,
    operations: {
      GetParameter: (input, { region }) => {
        const parameter = read(region, input['Name']);
        if (!parameter) throw new AwsFault('ParameterNotFound', '');
        return { Parameter: parameter };
      },
      GetParameters: (input, { region }) => {
        const names = Array.isArray(input['Names']) ? (input['Names'] as unknown[]) : [];
        const found = names.map((name) => [name, read(region, name)] as const);
        return {
          Parameters: found.flatMap(([, parameter]) => (parameter ? [parameter] : [])),
          InvalidParameters: found.flatMap(([name, parameter]) => (parameter ? [] : [name])),
        };
      },
    },
  });
  return {
    ...service,
    put: (region, name, value) => {
      const previous = parameters.get(keyOf(region, name));
      parameters.set(keyOf(region, name), { value, version: (previous?.version ?? 0) + 1 });
    },
    deny: (region, name) => denied.add(keyOf(region, name)),
    remove: (region, name) => {
      parameters.delete(keyOf(region, name));
      denied.delete(keyOf(region, name));
    },
  };
}
