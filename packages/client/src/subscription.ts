/**
 * What `onMessage` (and the other listeners that need berth to confirm)
 * return: call it to stop listening (idempotent); `ready` settles once berth
 * has confirmed the subscription, or rejects with why it refused (e.g.
 * NOT_FOUND) — the listener is then removed.
 */
export type Subscription = (() => void) & { readonly ready: Promise<void> };

export function subscription(unsubscribe: () => void, ready: Promise<void>): Subscription {
  // `ready` is there to be awaited; nobody awaiting it must not make a refusal an unhandled rejection.
  ready.catch(() => {});
  return Object.assign(unsubscribe, { ready });
}
