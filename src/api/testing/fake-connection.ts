import { ConnectionClosedError } from "../connection-limit-errors.ts";

/**
 * Just enough of a Socket.IO connection for the handlers of unit tests:
 * events in with an acknowledgement, rooms, a disconnect.
 */
export class FakeConnection {
  readonly id = "socket-1";
  readonly data = { owner: "alice", admin: false };
  readonly rooms = new Set<string>();
  connected = true;
  readonly #listeners = new Map<string, ((...args: unknown[]) => void)[]>();
  readonly #closed = new AbortController();
  readonly signal = this.#closed.signal;

  on(event: string, listener: (...args: unknown[]) => void): this {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }

  emit(): boolean {
    return true;
  }

  join(room: string): void {
    this.rooms.add(room);
  }

  leave(room: string): void {
    this.rooms.delete(room);
  }

  /** Sends `event` as a client would; answers its acknowledgement. */
  ask(event: string, payload: unknown): Promise<{ ok: boolean; data?: unknown; error?: { code: string } }> {
    return new Promise((answer) => {
      for (const listener of this.#listeners.get(event) ?? []) listener(payload, answer);
    });
  }

  /** As Socket.IO and ConnectionBounds do it: no longer connected, the signal aborted, then `disconnect`. */
  disconnect(): void {
    this.connected = false;
    this.#closed.abort(new ConnectionClosedError());
    for (const listener of this.#listeners.get("disconnect") ?? []) listener("client namespace disconnect");
  }
}
