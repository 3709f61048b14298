// Runs async work over a list with at most N items in flight, keeping results in input order.

/**
 * Maps `items` through `work` with at most `concurrency` calls pending at once.
 * `work` should settle on its own (probes race their deadline); a rejection rejects the whole map.
 * @example
 * const results = await mapBounded(targets, config.probe.concurrency, (target) => probeNode(target));
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}
