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
  /** A channel call, on this container's channel: it may go on the agent's channel lane (channel-lane.ts). */
  lane?: string;
}

/** An agent's channel lane, as calls are sent on it (ChannelLane); its answers come back through `answer`. */
export interface CallLane {
  call(envelope: Call): void;
  cancel(id: string): void;
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
 *
 * A channel call goes on the agent's channel lane while one is open, and
 * only once no call on the same channel sent on the link is still waiting:
 * the two are different connections, so a message sent on one must have been
 * answered (written to its workload) before a request on the other may
 * overtake it.
 */
export class LinkCalls {
  readonly #socket: CallSocket;
  /** Calls awaiting their answer, by id: how to fail each when the connection ends (`reason`). */
  readonly #pending = new Map<string, (reason: string) => void>();
  #nextId = 0;
  #failed: string | undefined;
  #lane: CallLane | undefined;
  /** Calls sent on a lane, by id: which lane, and where their answer goes. */
  readonly #onLane = new Map<string, { lane: CallLane; onAnswer: (raw: unknown) => void }>();
  /** Channel calls sent on the link and not settled yet, per container. */
  readonly #channelCallsOnLink = new Map<string, number>();

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

  /** Sends channel calls on `lane` from now on (see the class). */
  useLane(lane: CallLane): void {
    this.#lane = lane;
  }

  /**
   * An answer that came on `lane`; one whose call settled already (cancelled, timed out), or was not
   * sent on that lane, is dropped.
   */
  answer(lane: CallLane, id: string, raw: unknown): void {
    const sent = this.#onLane.get(id);
    if (sent?.lane === lane) sent.onAnswer(raw);
  }

  /** `lane` closed: no call goes on it from now on (they go on the link); those waiting on it wait for `dropLane`. */
  leaveLane(lane: CallLane): void {
    if (this.#lane === lane) this.#lane = undefined;
  }

  /** `lane` closed: the calls waiting on it fail as lost (`reason`); later ones go on the link. */
  dropLane(lane: CallLane, reason: string): void {
    this.leaveLane(lane);
    for (const [id, sent] of [...this.#onLane]) if (sent.lane === lane) this.#pending.get(id)?.(reason);
  }

  /** Sends one call and resolves with its answer, read by `call.read`; rejects as the class says. */
  send<T>(call: OutgoingCall<T>): Promise<{ id: string; value: T }> {
    const { signal } = call;
    return new Promise((resolve, reject) => {
      if (this.#failed !== undefined) return reject(call.lost(this.#failed));
      if (signal?.aborted) return reject(signal.reason);
      const id = String(++this.#nextId);
      const channel = call.lane;
      const lane = channel !== undefined && !this.#channelCallsOnLink.has(channel) ? this.#lane : undefined;
      const cancel = () => (lane ? lane.cancel(id) : this.#socket.emit("cancel", { id }));
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#pending.delete(id);
        if (lane) this.#onLane.delete(id);
        else if (channel !== undefined) this.#countOnLink(channel, -1);
        signal?.removeEventListener("abort", onAbort);
        settle();
      };
      const onAbort = () => {
        cancel();
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
      if (lane) {
        this.#onLane.set(id, { lane, onAnswer });
        lane.call(call.envelope(id));
      } else {
        if (channel !== undefined) this.#countOnLink(channel, 1);
        this.#socket.emit("call", call.envelope(id), onAnswer);
      }
      if (timeoutMs === undefined) return;
      // A timer of berth's own, cleared when the call settles: Socket.IO's per-emit timeout keeps its timer
      // (and with it this connection) until it fires, even for a call that was answered, aborted or failed
      // with the connection long before (up to a stop's own timeout plus its margin).
      timer = setTimeout(() => {
        // The agent may still be at it: a wait or a subscription is cancelled, anything else ends on its own.
        cancel();
        finish(() => reject(call.timedOut()));
      }, timeoutMs);
    });
  }

  #countOnLink(channel: string, by: 1 | -1): void {
    const count = (this.#channelCallsOnLink.get(channel) ?? 0) + by;
    if (count > 0) this.#channelCallsOnLink.set(channel, count);
    else this.#channelCallsOnLink.delete(channel);
  }
}
