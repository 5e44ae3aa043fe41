// Bounded parallelism for I/O: enough at once to hide latency (Docker calls,
// file reads), few enough not to flood dockerd or the thread pool.

/**
 * Runs fn over items, at most `limit` at once, results in item order. After a
 * failure no new item starts, and the first error is thrown only once the
 * calls already running have settled: nothing keeps writing after the caller
 * was told it failed.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
