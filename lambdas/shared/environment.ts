// The functions' environment variables, parsed with zod: a missing or bad value fails the cold start naming the variable.
import * as z from 'zod';
import { FUNCTION_ENVIRONMENT } from '../../fleet/function-environment.ts';

export type EnvironmentKey = keyof typeof FUNCTION_ENVIRONMENT;

/** Thrown at cold start when the function's environment lacks a variable the CDK app should have set. */
export class FunctionEnvironmentError extends Error {
  constructor(problems: readonly string[]) {
    super(
      `the function environment is incomplete:\n${problems.map((line) => `  - ${line}`).join('\n')}\nThese are set by the CDK app (infra/FleetWatch.ts); redeploy rather than editing them by hand.`,
    );
    this.name = 'FunctionEnvironmentError';
  }
}

const nonEmpty = z.string().trim().min(1, 'is empty');
const positiveSeconds = z.coerce.number().positive('must be a positive number of seconds');

/**
 * Reads the named variables (all required) and returns them by key.
 * @example const env = readFunctionEnvironment(['fleet', 'configParameter']); env.fleet
 */
export function readFunctionEnvironment<K extends EnvironmentKey>(
  keys: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Record<K, string> {
  const problems: string[] = [];
  const values = {} as Record<K, string>;
  for (const key of keys) {
    const name = FUNCTION_ENVIRONMENT[key];
    const parsed = nonEmpty.safeParse(env[name] ?? '');
    if (env[name] === undefined) problems.push(`${name} is not set`);
    else if (!parsed.success)
      problems.push(`${name} ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
    else values[key] = parsed.data;
  }
  if (problems.length > 0) throw new FunctionEnvironmentError(problems);
  return values;
}

/** STOREFLEET_LOOP_SECONDS, or `fallbackSeconds` when the function has none (the controller). */
export function readLoopSeconds(
  fallbackSeconds: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const name = FUNCTION_ENVIRONMENT.loopSeconds;
  const raw = env[name];
  if (raw === undefined || raw === '') return fallbackSeconds;
  const parsed = positiveSeconds.safeParse(raw);
  if (!parsed.success) {
    throw new FunctionEnvironmentError([
      `${name} is ${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    ]);
  }
  return parsed.data;
}

/** EventBridge starts scheduled functions once a minute; a function without STOREFLEET_LOOP_SECONDS loops that long. */
export const DEFAULT_LOOP_SECONDS = 60;
