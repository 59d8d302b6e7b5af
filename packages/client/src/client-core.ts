import { io, type Socket } from "socket.io-client";
import { BerthError } from "./berth-error.ts";
import type { CallOptions } from "./call-options.ts";
import { type ConnectErrorLike, connectionFailed, refusalOf } from "./connect-error.ts";
import { isConnectionLoss } from "./connection-loss.ts";
import type { ConnectionState } from "./connection-state.ts";
import type { LiveStream } from "./live-stream.ts";
import { checkPayload } from "./payload-size.ts";
import type {
  AckResponse,
  ClientEvent,
  ClientToServerEvents,
  RequestOf,
  ResultMap,
  ServerInfo,
  ServerToClientEvents,
} from "./protocol/index.ts";

export type BerthSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Options of `connect()`. */
export interface ConnectOptions {
  /** The owner's (or the admin's) token. */
  token: string;
  /** How long connecting (the handshake, then `server:info`) may take before CONNECTION_FAILED (default 10 s). */
  timeoutMs?: number;
  /**
   * How long a call waits for berth's answer unless it says otherwise
   * (default 60 s). Long operations (create, start, stop, restart, update,
   * rollback) wait longer by default: as long as berth may take for them
   * (its ready and stop timeouts, up to their maxima, plus a margin).
   */
  requestTimeoutMs?: number;
  /** Whether to reconnect after a drop (default true); without it a drop closes the client. */
  reconnect?: boolean;
  /**
   * Socket.IO transports, in order (default `["websocket"]`: one round trip
   * fewer, and what every browser and Node.js ≥ 22 speaks; add `"polling"`
   * behind a proxy that does not pass WebSockets).
   */
  transports?: ("websocket" | "polling" | "webtransport")[];
  /**
   * How long the client goes on asking again, with backoff, when berth
   * refuses a reconnect for a reason that passes (TOO_MANY_CONNECTIONS: the
   * owner is at its connection cap) before it gives up and closes with that
   * error (default 5 minutes).
   */
  refusedRetryLimitMs?: number;
}

/** Extra wait for `container:request` beyond its own timeout, so that berth's CHANNEL_TIMEOUT arrives before the client's TIMEOUT. */
export const REQUEST_MARGIN_MS = 5_000;

/** Backoff before asking again after a retryable refusal (TOO_MANY_CONNECTIONS) while reconnecting. */
const REFUSED_RETRY_MIN_MS = 1_000;
const REFUSED_RETRY_MAX_MS = 30_000;
/** How long the client goes on asking after retryable refusals by default (ConnectOptions.refusedRetryLimitMs). */
export const DEFAULT_REFUSED_RETRY_LIMIT_MS = 5 * 60_000;

interface Pending {
  fail(error: BerthError): void;
}

type Ack = ((err: Error | null, response?: AckResponse<unknown>) => void) & { withError?: boolean };

/**
 * The connection under a BerthClient: the socket, the calls in flight, the
 * connection state and the streams kept alive across reconnections. Made by
 * `ClientCore.open`, which resolves once berth has answered `server:info`.
 */
export class ClientCore {
  readonly socket: BerthSocket;
  readonly url: string;
  readonly requestTimeoutMs: number;
  /** berth's answer to `server:info` at connect (its limits, images, the caller's quotas). */
  info!: ServerInfo;
  #state: ConnectionState = "connected";
  #closedBy: BerthError | undefined;
  readonly #reconnect: boolean;
  readonly #pending = new Set<Pending>();
  readonly #streams = new Set<LiveStream>();
  readonly #stateListeners = new Set<(state: ConnectionState) => void>();
  #refusedRetries = 0;
  /** When the first of the current run of retryable refusals came (undefined: none since the last connect). */
  #refusedSince: number | undefined;
  readonly #refusedRetryLimitMs: number;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(socket: BerthSocket, url: string, options: ConnectOptions) {
    this.socket = socket;
    this.url = url;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#reconnect = options.reconnect ?? true;
    const limit = options.refusedRetryLimitMs;
    // NaN or a negative limit would never be reached: the default then, rather than retries without end.
    this.#refusedRetryLimitMs =
      limit !== undefined && Number.isFinite(limit) && limit >= 0 ? limit : DEFAULT_REFUSED_RETRY_LIMIT_MS;
    socket.on("disconnect", this.#onDisconnect);
    socket.on("connect", this.#onConnect);
    socket.on("connect_error", this.#onConnectError);
    socket.on("session:revoked", this.#onRevoked);
  }

  /** Connects, reads `server:info`, then turns reconnection on. One attempt: a refused or failed handshake is final. */
  static async open(url: string, options: ConnectOptions): Promise<ClientCore> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    // forceNew: every client has its own connection (io() would otherwise share one per URL between
    // clients, tokens and all). Reconnection is off until the first connect succeeds, so that a refused
    // token or a URL where nothing listens fails at once instead of retrying.
    const socket: BerthSocket = io(url, {
      auth: { token: options.token },
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
      transports: options.transports ?? ["websocket"],
      autoConnect: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => done(connectionFailed(url, "timeout", timeoutMs)), timeoutMs);
        const onConnect = () => done();
        const onError = (err: ConnectErrorLike) =>
          done(refusalOf(err) ?? connectionFailed(url, err, timeoutMs));
        const done = (error?: BerthError) => {
          clearTimeout(timer);
          socket.off("connect", onConnect);
          socket.off("connect_error", onError);
          if (error) reject(error);
          else resolve();
        };
        socket.once("connect", onConnect);
        socket.once("connect_error", onError);
        socket.connect();
      });
    } catch (err) {
      socket.disconnect();
      throw err;
    }
    const core = new ClientCore(socket, url, options);
    try {
      core.info = await core.call("server:info", {}, { timeoutMs });
    } catch (err) {
      core.close();
      throw err;
    }
    socket.io.reconnection(core.#reconnect);
    return core;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Listens to changes of `state`; returns the unsubscribe. */
  onState(listener: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Keeps `stream` alive across reconnections until the returned function is called. */
  track(stream: LiveStream): () => void {
    if (this.#closedBy) {
      stream.end(this.#closedBy.code === "CLOSED" ? undefined : this.#closedBy);
      return () => {};
    }
    this.#streams.add(stream);
    return () => this.#streams.delete(stream);
  }

  /** Throws what closed the client (CLOSED, SESSION_REVOKED, …) if it is closed. */
  assertOpen(): void {
    if (this.#closedBy) throw this.#closedBy;
  }

  /**
   * Sends `event` with `payload` and resolves with the answer's `data`, or
   * throws a BerthError: berth's answer `{ ok: false, error }`, or one of the
   * client's own (PAYLOAD_TOO_LARGE before sending, DISCONNECTED, TIMEOUT,
   * ABORTED, CLOSED, SESSION_REVOKED).
   */
  call<E extends ClientEvent>(
    event: E,
    payload: RequestOf<E>,
    options: CallOptions = {},
  ): Promise<ResultMap[E]> {
    try {
      this.assertOpen();
      checkPayload(event, payload, this.info?.limits);
      if (!this.socket.connected)
        throw BerthError.client(
          "DISCONNECTED",
          `not connected to berth at ${this.url} (the client is reconnecting); ${event} was not sent — try again once connected`,
        );
      if (options.signal?.aborted) throw aborted(event, options.signal);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<ResultMap[E]>((resolve, reject) => {
      const { signal } = options;
      let settled = false;
      const settle = (error: BerthError | undefined, data?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(pending);
        if (error) reject(error);
        else resolve(data as ResultMap[E]);
      };
      const pending: Pending = { fail: (error) => settle(error) };
      const onAbort = () => settle(aborted(event, signal!));
      // A call that times out or is aborted leaves its callback with socket.io-client until the answer
      // comes (ignored then) or the connection drops: socket.io-client has no way to withdraw it.
      const timer = setTimeout(
        () =>
          settle(
            BerthError.client("TIMEOUT", `berth did not answer ${event} within ${timeoutMs} ms`, {
              details: { event, timeoutMs },
            }),
          ),
        timeoutMs,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.add(pending);
      // withError: socket.io-client calls it with an error when the connection drops before the answer.
      const ack: Ack = (err, response) => {
        if (err)
          return settle(
            BerthError.client(
              "DISCONNECTED",
              `the connection to berth dropped before it answered ${event}; it may or may not have been carried out — check, then try again`,
              { details: { event }, cause: err },
            ),
          );
        if (!response || typeof response !== "object" || typeof response.ok !== "boolean")
          return settle(BerthError.client("BAD_RESPONSE", undefined, { details: { event } }));
        if (response.ok) settle(undefined, response.data);
        else settle(BerthError.fromWire(response.error));
      };
      ack.withError = true;
      (this.socket as unknown as { emit(e: string, p: unknown, a: Ack): void }).emit(event, payload, ack);
    });
  }

  /** Closes the connection for good; idempotent. Calls in flight fail with `reason` (CLOSED by default). */
  close(reason?: BerthError): void {
    if (this.#closedBy) return;
    const error = reason ?? BerthError.client("CLOSED", "the client was closed (client.close())");
    this.#closedBy = error;
    clearTimeout(this.#retryTimer);
    for (const pending of [...this.#pending]) pending.fail(error);
    // Streams end cleanly on close(); with an error when something else closed the client.
    for (const stream of [...this.#streams]) stream.end(reason);
    this.#streams.clear();
    this.socket.off("disconnect", this.#onDisconnect);
    this.socket.disconnect();
    this.#setState("closed");
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const listener of [...this.#stateListeners]) listener(state);
  }

  readonly #onDisconnect = (reason: string) => {
    if (this.#closedBy) return;
    if (!this.#reconnect) {
      this.close(
        BerthError.client("DISCONNECTED", `the connection to berth at ${this.url} dropped (${reason})`, {
          details: { reason },
        }),
      );
      return;
    }
    this.#setState("reconnecting");
    // socket.io-client reconnects by itself after a transport failure, not when berth disconnected it
    // (berth shutting down, or a connection over its buffer bound): that one is asked for here.
    if (reason === "io server disconnect") this.socket.connect();
  };

  readonly #onConnect = () => {
    if (this.#closedBy) return;
    this.#refusedRetries = 0;
    this.#refusedSince = undefined;
    this.#setState("connected");
    const recovered = this.socket.recovered;
    for (const stream of [...this.#streams]) {
      stream.resume(recovered).catch((err: unknown) => {
        // A stream that cannot come back (its container was deleted meanwhile, a cap reached) ends with why.
        if (isConnectionLoss(err)) return;
        stream.end(err instanceof BerthError ? err : undefined);
        this.#streams.delete(stream);
      });
    }
  };

  readonly #onConnectError = (err: ConnectErrorLike) => {
    if (this.#closedBy) return;
    const refusal = refusalOf(err);
    if (!refusal) return; // a transport failure: socket.io-client goes on retrying with backoff
    if (refusal.code === "UNAUTHORIZED") {
      this.close(
        BerthError.client(
          "SESSION_REVOKED",
          `berth refused this client's token when it reconnected (${refusal.code}): it was revoked or replaced; connect again with a valid token`,
          { cause: refusal, details: { refusal: refusal.code } },
        ),
      );
      return;
    }
    const now = Date.now();
    this.#refusedSince ??= now;
    if (!refusal.retryable || now - this.#refusedSince >= this.#refusedRetryLimitMs) {
      // Anything else berth refuses with is not a revoked token: the client closes with berth's own code.
      this.close(refusedReconnect(refusal, this.#refusedRetries));
      return;
    }
    // A retryable refusal (TOO_MANY_CONNECTIONS) ends socket.io-client's own attempts: try again later,
    // with backoff, until refusedRetryLimitMs has passed since the first refusal.
    const delay = Math.min(REFUSED_RETRY_MAX_MS, REFUSED_RETRY_MIN_MS * 2 ** this.#refusedRetries++);
    const left = this.#refusedSince + this.#refusedRetryLimitMs - now;
    this.#retryTimer = setTimeout(() => this.socket.connect(), Math.min(left, delay * (0.5 + Math.random())));
  };

  readonly #onRevoked = () => {
    this.close(
      BerthError.client(
        "SESSION_REVOKED",
        "berth revoked the token this client connected with (removed or replaced); connect again with a valid token",
      ),
    );
  };
}

/** What closes a client whose reconnect berth refused (other than a refused token): berth's code, saying so. */
function refusedReconnect(refusal: BerthError, retries: number): BerthError {
  const again = retries > 0 ? ` (asked ${retries + 1} times)` : "";
  return new BerthError({
    code: refusal.code,
    message: `berth refused this client when it reconnected${again}: ${refusal.message}`,
    category: refusal.category,
    retryable: refusal.retryable,
    ...(refusal.details === undefined ? {} : { details: refusal.details }),
    cause: refusal,
  });
}

function aborted(event: string, signal: AbortSignal): BerthError {
  return BerthError.client("ABORTED", `${event} was aborted; berth may still carry it out`, {
    details: { event },
    cause: signal.reason,
  });
}
