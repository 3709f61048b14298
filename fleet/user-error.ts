// The base of every error a user can cause (a config, a flag, a registry file): it says what was wrong and where, and carries the exit code.
/** What the `storefleet` command exits with when the user's input was wrong. */
export const USER_ERROR_EXIT_CODE = 2;

export interface UserErrorOptions {
  /** The lower-level error this one explains. */
  cause?: unknown;
  /** @default USER_ERROR_EXIT_CODE (2) */
  exitCode?: number;
}

/**
 * Subclass it for each kind of user mistake; the CLI prints the message alone (no stack) and exits
 * with `exitCode`. Anything not a UserError is a bug or an outage and exits 1.
 * @example
 * export class ProbeUsageError extends UserError {
 *   constructor(message: string) {
 *     super(message);
 *     this.name = 'ProbeUsageError';
 *   }
 * }
 */
export class UserError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? USER_ERROR_EXIT_CODE;
  }
}
