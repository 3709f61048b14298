// The storefleet functions' Powertools Logger: JSON lines tagged with the service name, created once per execution environment.
import { Logger } from '@aws-lambda-powertools/logger';

/** `service` in every log line and the Powertools service name of every function. */
export const SERVICE_NAME = 'storefleet';

/**
 * Log level comes from POWERTOOLS_LOG_LEVEL (INFO by default); handlers add the Lambda context with
 * `logger.addContext(context)` or the injectLambdaContext middleware.
 * @example
 * import { logger } from '../adapters/logger.ts';
 * logger.info('published fleets.json', { sequence });
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });
