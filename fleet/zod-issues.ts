// What every readable zod error line in the project shares: the value the issue is about, and the `path: got value; message` wording.

/** The value at `path` in what was validated; undefined where the path leaves the input. */
export function valueAtPath(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * One issue as a line a user can act on; callers keep their own path and value spelling, since
 * fleet config and registry documents name paths differently.
 * @example gotIssueLine('nodes[3].region', '"eu-west-9"', 'not an AWS region') // 'nodes[3].region: got "eu-west-9"; not an AWS region'
 */
export function gotIssueLine(path: string, shownValue: string, message: string): string {
  return `${path || '(root)'}: got ${shownValue}; ${message}`;
}
