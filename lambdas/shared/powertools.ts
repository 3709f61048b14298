// Powertools' own middleware around every function handler: the logger gets the Lambda context, metrics are flushed on every path, errors included.

import type { MiddlewareLikeObj, MiddyLikeRequest } from '@aws-lambda-powertools/commons/types';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import type { EmfMetricsSink } from '../adapters/EmfMetricsSink.ts';
import { logger } from '../adapters/logger.ts';

/**
 * Runs Powertools' middleware objects in Middy's order (before in order; after and onError in
 * reverse), so the handlers get exactly what `middy(handler).use(injectLambdaContext(logger)).use(logMetrics(metrics))`
 * gives, without adding Middy itself for four functions.
 */
function useMiddleware<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
  middlewares: readonly MiddlewareLikeObj[],
): (event: E, context: Context) => Promise<R> {
  return async (event, context) => {
    const request: MiddyLikeRequest = {
      event,
      context,
      response: undefined,
      error: undefined,
      internal: {},
    };
    for (const middleware of middlewares) await middleware.before?.(request);
    const reversed = [...middlewares].reverse();
    try {
      request.response = await handler(event, context);
    } catch (error) {
      request.error = error instanceof Error ? error : new Error(String(error));
      for (const middleware of reversed) await middleware.onError?.(request);
      throw error;
    }
    for (const middleware of reversed) await middleware.after?.(request);
    return request.response as R;
  };
}

/**
 * @example
 * export const handler = withPowertools('publisher', publisherHandler, metrics);
 */
export function withPowertools<E, R>(
  functionName: string,
  handler: (event: E, context: Context) => Promise<R>,
  metrics?: EmfMetricsSink,
): (event: E, context: Context) => Promise<R> {
  const flushSink: MiddlewareLikeObj = {
    // Our sink groups points by dimension set and hands them to Powertools when flushed.
    after: async () => metrics?.flush(),
    onError: async () => metrics?.flush(),
  };
  return useMiddleware(handler, [
    injectLambdaContext(logger, { resetKeys: true }),
    ...(metrics ? [logMetrics(metrics.powertools), flushSink] : []),
    {
      before: async () => {
        logger.appendKeys({ function: functionName });
      },
    },
  ]);
}
