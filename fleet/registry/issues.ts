// Turns zod issues on registry documents into lines that name the JSON path the way a reader would type it.
import type * as z from 'zod';
import { gotIssueLine, valueAtPath } from '../zod-issues.ts';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_SHOWN_VALUE_CHARS = 80;

/**
 * `fleets["status.prod"]["tcp/p2p/waku"]["node-01"]`: fleet, kind and node names hold dots and
 * slashes, so they are quoted; plain identifiers read as `meta.timestamp`.
 */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => {
      if (typeof key === 'number') return `[${key}]`;
      const name = String(key);
      if (IDENTIFIER.test(name)) return i === 0 ? name : `.${name}`;
      return `[${JSON.stringify(name)}]`;
    })
    .join('');
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN_VALUE_CHARS ? `${text.slice(0, MAX_SHOWN_VALUE_CHARS)}...` : text;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const path = formatJsonPath(issue.path) || '(root)';
  if (issue.code === 'invalid_key') {
    const reason = issue.issues[0]?.message ?? issue.message;
    return `${path}: the name ${show(issue.path.at(-1))} is not allowed; ${reason}`;
  }
  if (issue.code === 'unrecognized_keys') {
    return `${path}: unexpected ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}; ${issue.message}`;
  }
  return gotIssueLine(path, show(valueAtPath(input, issue.path)), issue.message);
}

export function describeRegistryIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => describeIssue(issue, input));
}
