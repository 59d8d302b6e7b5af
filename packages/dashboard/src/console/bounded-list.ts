/** A list that keeps its newest items only, and counts those it let go. */
export interface BoundedList<T> {
  /** Newest first. */
  items: T[];
  /** How many older items were dropped to stay within the bound. */
  dropped: number;
}

export const emptyList = <T>(): BoundedList<T> => ({ items: [], dropped: 0 });

/**
 * `list` with `item` first and at most `max` items; a new object, `list` is
 * left as it was (a state setter's update).
 *
 * @example
 *   let messages = emptyList<string>();
 *   messages = addNewest(messages, "hello", 100);
 */
export function addNewest<T>(list: BoundedList<T>, item: T, max: number): BoundedList<T> {
  const items = [item, ...list.items.slice(0, Math.max(0, max - 1))];
  return { items, dropped: list.dropped + (list.items.length + 1 - items.length) };
}
