// Exact bytes of a published registry document: the signature covers these bytes, so they must not vary.

/**
 * Two-space indented JSON with a final newline, keys in the order the document was built in.
 * Builders construct their objects in a fixed order (node names sorted), so the same input always
 * yields the same bytes.
 */
export function encodeRegistryDocument(document: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(document, null, 2)}\n`);
}

/** Compares two JSON values regardless of key order (for checking that bytes match a document). */
export function sameJsonValue(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null)
    return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, i) => sameJsonValue(item, right[i]));
  }
  const leftEntries = Object.entries(left).filter(([, value]) => value !== undefined);
  const rightRecord = right as Record<string, unknown>;
  const rightKeys = Object.keys(rightRecord).filter((key) => rightRecord[key] !== undefined);
  return (
    leftEntries.length === rightKeys.length &&
    leftEntries.every(
      ([key, value]) => Object.hasOwn(rightRecord, key) && sameJsonValue(value, rightRecord[key]),
    )
  );
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
export function byCodeUnits(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
