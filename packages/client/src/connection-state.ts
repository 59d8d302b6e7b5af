/**
 * Where a client's connection stands: `connected`; `reconnecting` after a
 * drop (calls fail at once with DISCONNECTED meanwhile; subscriptions come
 * back by themselves); `closed` for good — by `close()`, by a revoked token,
 * or by a drop with `reconnect: false`.
 */
export type ConnectionState = "connected" | "reconnecting" | "closed";
