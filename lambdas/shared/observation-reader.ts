// Reads the newest completeness results and stress summaries per node, for the controller's reputation inputs.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import {
  type CompletenessResult,
  CompletenessResultSchema,
  type StressSummary,
  StressSummarySchema,
} from '../../fleet/observations.ts';
import { TABLE_KEYS } from '../../fleet/tables.ts';
import { callAws } from '../adapters/aws-call-error.ts';

/** Results per node handed to each round; the controller skips windows it already counted. */
export const LATEST_OBSERVATIONS_PER_NODE = 3;

const defaultDocumentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

export interface ObservationReader {
  latestCompleteness(nodeIds: readonly string[]): Promise<CompletenessResult[]>;
  latestStress(nodeIds: readonly string[]): Promise<StressSummary[]>;
}

export interface DynamoObservationReaderProps {
  fleet: string;
  probeResultsTableName: string;
  /** @default LATEST_OBSERVATIONS_PER_NODE */
  perNode?: number;
  /** @default a module-scope DynamoDBDocumentClient */
  client?: DynamoDBDocumentClient;
}

/**
 * @example
 * const reader = new DynamoObservationReader({ fleet, probeResultsTableName });
 * const completeness = await reader.latestCompleteness(config.nodes.map((node) => node.id));
 */
export class DynamoObservationReader implements ObservationReader {
  readonly #props: DynamoObservationReaderProps;
  readonly #client: DynamoDBDocumentClient;

  constructor(props: DynamoObservationReaderProps) {
    this.#props = props;
    this.#client = props.client ?? defaultDocumentClient;
  }

  latestCompleteness(nodeIds: readonly string[]): Promise<CompletenessResult[]> {
    return this.#latest(nodeIds, 'completeness', CompletenessResultSchema);
  }

  latestStress(nodeIds: readonly string[]): Promise<StressSummary[]> {
    return this.#latest(nodeIds, 'stress', StressSummarySchema);
  }

  async #latest<T>(
    nodeIds: readonly string[],
    kind: 'completeness' | 'stress',
    schema: z.ZodType<T>,
  ): Promise<T[]> {
    const table = this.#props.probeResultsTableName;
    const pages = await Promise.all(
      nodeIds.map((nodeId) =>
        callAws({ action: 'dynamodb:Query', resource: `table "${table}"` }, () =>
          this.#client.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: '#pk = :pk',
              ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
              ExpressionAttributeValues: { ':pk': `${this.#props.fleet}#${kind}#${nodeId}` },
              ScanIndexForward: false,
              Limit: this.#props.perNode ?? LATEST_OBSERVATIONS_PER_NODE,
            }),
          ),
        ),
      ),
    );
    const found: T[] = [];
    for (const page of pages) {
      for (const item of page.Items ?? []) {
        if (typeof item['body'] !== 'string') continue;
        const parsed = schema.safeParse(JSON.parse(item['body']));
        if (parsed.success) found.push(parsed.data);
      }
    }
    // Oldest first, as they happened.
    return found.reverse();
  }
}
