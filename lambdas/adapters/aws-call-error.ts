// One error type for failed AWS calls, whose message names the resource and what to check.

/** Where a failed call was aimed and which IAM action it needed, for a message an operator can act on. */
export interface AwsCallTarget {
  /** IAM action, e.g. `dynamodb:PutItem`. */
  action: string;
  /** Human description of the resource, e.g. `table "storefleet-node-state"`. */
  resource: string;
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'KMSAccessDeniedException',
]);

const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'NoSuchBucket',
  'NotFoundException',
  'ClusterNotFoundException',
  'ServiceNotFoundException',
  'ResourceNotFound',
]);

/** KMS keys that exist but may not be used right now. */
const UNUSABLE_KEY = new Set([
  'DisabledException',
  'KMSInvalidStateException',
  'KeyUnavailableException',
]);

const THROTTLED = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
]);

/** A call to AWS failed for a reason other than a lost race; the message says what to check. */
export class AwsCallError extends Error {
  readonly awsErrorName: string;
  readonly target: AwsCallTarget;
  constructor(target: AwsCallTarget, cause: unknown) {
    const name = awsErrorName(cause);
    const status = httpStatusOf(cause);
    const message = cause instanceof Error ? cause.message : String(cause);
    // Bodiless answers (HEAD) come back as "UnknownError"; the status code says more.
    const detail = message === 'UnknownError' && status !== undefined ? `HTTP ${status}` : message;
    super(
      `${target.action} on ${target.resource} failed (${name}: ${detail}); ${hint(target, name, status)}`,
      { cause },
    );
    this.name = 'AwsCallError';
    this.awsErrorName = name;
    this.target = target;
  }
}

export function awsErrorName(error: unknown): string {
  if (error && typeof error === 'object' && 'name' in error && typeof error.name === 'string') {
    return error.name;
  }
  return 'UnknownError';
}

/** HTTP status of an AWS SDK v3 service error, when there was a response. */
export function httpStatusOf(error: unknown): number | undefined {
  const metadata =
    error && typeof error === 'object' && '$metadata' in error
      ? (error.$metadata as { httpStatusCode?: number } | undefined)
      : undefined;
  return metadata?.httpStatusCode;
}

function hint(target: AwsCallTarget, name: string, httpStatus: number | undefined): string {
  if (ACCESS_DENIED.has(name) || httpStatus === 403) {
    return `check that the function's role allows ${target.action} on ${target.resource} (and that its credentials are valid)`;
  }
  if (NOT_FOUND.has(name) || httpStatus === 404) {
    return `check that ${target.resource} exists, is spelled as deployed, and lives in the client's region`;
  }
  if (UNUSABLE_KEY.has(name)) {
    return `${target.resource} is disabled, pending deletion or unavailable; enable it or point the configuration at the current key`;
  }
  if (THROTTLED.has(name)) {
    return 'the call was throttled; the next round retries it, raise the limit if this repeats';
  }
  return `check ${target.resource}, the client's region and the role's ${target.action} permission`;
}

/** Runs one AWS call and rethrows any failure as an AwsCallError naming the target. */
export async function callAws<T>(target: AwsCallTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new AwsCallError(target, error);
  }
}
