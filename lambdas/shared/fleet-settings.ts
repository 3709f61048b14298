// Small documents beside the fleet state in the node state table: operator drains and the last registry publication.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { tableKeys } from '../../fleet/tables.ts';
import { callAws } from '../adapters/aws-call-error.ts';
import type { EnvironmentKey } from './environment.ts';

const defaultDocumentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

const OperatorOverridesSchema = z.object({ drained: z.array(z.string()) });

export const RegistryPublicationSchema = z.object({
  sequence: z.number().int().positive(),
  /** The listed nodes and their addresses, as JSON: a different key means a different fleets.json. */
  listedKey: z.string(),
  publishedAtMs: z.number().int().nonnegative(),
});
export type RegistryPublication = z.infer<typeof RegistryPublicationSchema>;

/** The seam the API, the publisher and the stress function use; DynamoFleetSettings on AWS. */
export interface FleetSettings {
  operatorDrained(): Promise<Set<string>>;
  setOperatorDrained(nodeIds: ReadonlySet<string>): Promise<void>;
  lastPublication(): Promise<RegistryPublication | undefined>;
  recordPublication(publication: RegistryPublication): Promise<void>;
}

export interface DynamoFleetSettingsProps {
  fleet: string;
  nodeStateTableName: string;
  /** @default a module-scope DynamoDBDocumentClient */
  client?: DynamoDBDocumentClient;
}

/**
 * @example
 * const settings = new DynamoFleetSettings({ fleet, nodeStateTableName });
 * const drained = await settings.operatorDrained();
 */
export class DynamoFleetSettings implements FleetSettings {
  readonly #fleet: string;
  readonly #table: string;
  readonly #client: DynamoDBDocumentClient;

  constructor(props: DynamoFleetSettingsProps) {
    this.#fleet = props.fleet;
    this.#table = props.nodeStateTableName;
    this.#client = props.client ?? defaultDocumentClient;
  }

  async operatorDrained(): Promise<Set<string>> {
    const body = await this.#get(tableKeys.operatorOverrides(this.#fleet));
    const parsed = OperatorOverridesSchema.safeParse(body);
    return new Set(parsed.success ? parsed.data.drained : []);
  }

  async setOperatorDrained(nodeIds: ReadonlySet<string>): Promise<void> {
    await this.#put(tableKeys.operatorOverrides(this.#fleet), { drained: [...nodeIds].sort() });
  }

  async lastPublication(): Promise<RegistryPublication | undefined> {
    const parsed = RegistryPublicationSchema.safeParse(
      await this.#get(tableKeys.registryPublication(this.#fleet)),
    );
    return parsed.success ? parsed.data : undefined;
  }

  async recordPublication(publication: RegistryPublication): Promise<void> {
    await this.#put(tableKeys.registryPublication(this.#fleet), publication);
  }

  async #get(key: { pk: string; sk: string }): Promise<unknown> {
    const output = await callAws(
      { action: 'dynamodb:GetItem', resource: `table "${this.#table}"` },
      () =>
        this.#client.send(
          new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }),
        ),
    );
    const body = output.Item?.['body'];
    if (typeof body !== 'string') return undefined;
    try {
      return JSON.parse(body);
    } catch {
      return undefined;
    }
  }

  async #put(key: { pk: string; sk: string }, body: unknown): Promise<void> {
    await callAws({ action: 'dynamodb:PutItem', resource: `table "${this.#table}"` }, () =>
      this.#client.send(
        new PutCommand({ TableName: this.#table, Item: { ...key, body: JSON.stringify(body) } }),
      ),
    );
  }
}

/** The settings in the node state table, named by values read with readFunctionEnvironment. */
export function dynamoFleetSettings(
  values: Record<Extract<EnvironmentKey, 'fleet' | 'nodeStateTable'>, string>,
): DynamoFleetSettings {
  return new DynamoFleetSettings({
    fleet: values.fleet,
    nodeStateTableName: values.nodeStateTable,
  });
}
