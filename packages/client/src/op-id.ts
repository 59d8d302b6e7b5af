let counter = 0;

/**
 * An id for `progress: { opId }`, unique enough to tell this client's
 * operations apart (berth sends progress to the calling connection only).
 * crypto.randomUUID where there is one (Node.js, browsers in secure
 * contexts); elsewhere time, a counter and randomness.
 */
export function newOpId(): string {
  const uuid = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto?.randomUUID?.();
  if (uuid) return uuid;
  counter = (counter + 1) % 1_000_000;
  return `${Date.now().toString(36)}-${counter.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
