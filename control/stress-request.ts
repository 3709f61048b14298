// A stress test request as the API accepts it and the stress function is invoked with, capped by the config.
import * as z from 'zod';
import type { FleetConfig } from '../fleet/config.ts';

/**
 * The shape both APIs check (lambdas/api and local/api.ts); caps come from config.stress.
 * @example const request = stressRequestSchema(config).parse(await c.req.json());
 */
export function stressRequestSchema(config: Pick<FleetConfig, 'stress'>) {
  const caps = config.stress;
  return z.strictObject({
    nodeId: z.string().min(1),
    rate: z
      .number()
      .int()
      .positive()
      .max(caps.maxRatePerSecond, `at most stress.maxRatePerSecond (${caps.maxRatePerSecond})`),
    durationSeconds: z
      .number()
      .positive()
      .max(
        caps.maxDurationSeconds,
        `at most stress.maxDurationSeconds (${caps.maxDurationSeconds})`,
      ),
    connections: z
      .number()
      .int()
      .positive()
      .max(caps.maxConnections, `at most stress.maxConnections (${caps.maxConnections})`),
    transport: z.enum(['libp2p', 'rest']),
  });
}

export type StressTestRequest = z.infer<ReturnType<typeof stressRequestSchema>>;
