/** Trials read at once: the thread pool reads the next ones while the current one is parsed. */
export const READ_AHEAD = 4;

/**
 * Runs `work` on up to `limit` items at once and yields the results in the items' order. A reader
 * that parses one trial while the files of the next few are being read spends its time parsing, not
 * waiting for the disk. A rejection surfaces when its result's turn comes.
 */
export async function* inOrder<T, R>(items: AsyncIterable<T> | Iterable<T>, limit: number, work: (item: T) => Promise<R>): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  for await (const item of items) {
    const started = work(item);
    // Awaited in turn below; until then a rejection must not count as unhandled.
    started.catch(() => undefined);
    pending.push(started);
    if (pending.length >= limit) yield await pending.shift()!;
  }
  while (pending.length > 0) yield await pending.shift()!;
}
