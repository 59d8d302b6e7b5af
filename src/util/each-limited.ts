/**
 * Runs `fn` on every item, at most `limit` at once, and resolves when all
 * are done (`fn` must not reject: each caller says what a failure means for
 * it). For work that holds a scarce resource per item — in cluster mode, a
 * connection of the container locks' pool per engine sync — where one
 * `Promise.all` over hundreds of items would take them all at once.
 */
export async function eachLimited<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, worker));
}
