import type { ApiToAgentEvents, Call } from "../agent-link/agent-link-contract.ts";

/** What a call needs besides its envelope: its bounds, how to read its answer, what its failures are. */
export interface OutgoingCall<T> {
  envelope: (id: string) => Call;
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  read: (raw: unknown) => T;
  lost: (reason: string) => Error;
  timedOut: () => Error;
  /** Told the call's id before it is sent. */
  beforeSend?: (id: string) => void;
}

/** The side of an agent's socket that calls are sent on. */
interface CallSocket {
  emit<E extends keyof ApiToAgentEvents>(event: E, ...args: Parameters<ApiToAgentEvents[E]>): unknown;
}

/**
 * The calls an API server has waiting on one agent connection, whatever their
 * kind (the engine's, a channel's): ids unique on the connection, each call
 * settled once — by its answer, its own timer, its caller's AbortSignal
 * (which sends `cancel` to the agent) or the connection's end (`fail`) —
 * with its timer cleared when it settles.
 */
export class LinkCalls {
  readonly #socket: CallSocket;
  /** Calls awaiting their answer, by id: how to fail each when the connection ends (`reason`). */
  readonly #pending = new Map<string, (reason: string) => void>();
  #nextId = 0;
  #failed: string | undefined;

  constructor(socket: CallSocket) {
    this.#socket = socket;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** The connection ended (`reason`): every call waiting fails, and so does every later one. */
  fail(reason: string): void {
    this.#failed ??= reason;
    for (const fail of [...this.#pending.values()]) fail(reason);
    this.#pending.clear();
  }

  /** Sends one call and resolves with its answer, read by `call.read`; rejects as the class says. */
  send<T>(call: OutgoingCall<T>): Promise<{ id: string; value: T }> {
    const { signal } = call;
    return new Promise((resolve, reject) => {
      if (this.#failed !== undefined) return reject(call.lost(this.#failed));
      if (signal?.aborted) return reject(signal.reason);
      const id = String(++this.#nextId);
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#pending.delete(id);
        signal?.removeEventListener("abort", onAbort);
        settle();
      };
      const onAbort = () => {
        this.#socket.emit("cancel", { id });
        finish(() => reject(signal?.reason));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, (reason) => finish(() => reject(call.lost(reason))));
      const onAnswer = (raw: unknown) =>
        finish(() => {
          try {
            resolve({ id, value: call.read(raw) });
          } catch (err) {
            reject(err);
          }
        });
      call.beforeSend?.(id);
      const { timeoutMs } = call;
      this.#socket.emit("call", call.envelope(id), onAnswer);
      if (timeoutMs === undefined) return;
      // A timer of berth's own, cleared when the call settles: Socket.IO's per-emit timeout keeps its timer
      // (and with it this connection) until it fires, even for a call that was answered, aborted or failed
      // with the connection long before (up to a stop's own timeout plus its margin).
      timer = setTimeout(() => {
        // The agent may still be at it: a wait or a subscription is cancelled, anything else ends on its own.
        this.#socket.emit("cancel", { id });
        finish(() => reject(call.timedOut()));
      }, timeoutMs);
    });
  }
}
