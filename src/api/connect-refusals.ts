import type { ErrorCode } from "#protocol";
import { RepeatedLog, type RepeatedLogOptions } from "../logging/repeated-log.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { handshakeError } from "./handshake-error.ts";
import type { BerthSocket } from "./register-handler.ts";

type EngineSocket = BerthSocket["conn"];
/** What a refusal needs of a socket, on any namespace (the clients' or the agents'). */
type RefusableSocket = Pick<BerthSocket, "conn" | "handshake">;
type Middleware = (socket: RefusableSocket, next: (err?: Error) => void) => void;

/**
 * How long a refused polling connection may take to fetch its connect_error.
 * socket.io-client keeps a GET open at all times, so the answer leaves at
 * once; a peer that does not fetch it must not hold the connection (whose
 * packets no longer count against the pre-auth limit) until the heartbeat
 * gives up, 45 s later.
 */
export const REFUSED_DRAIN_MS = 2_000;

/** The codes a namespace middleware refuses a CONNECT with. */
export type ConnectRefusalCode = Extract<
  ErrorCode,
  "UNAUTHORIZED" | "TOO_MANY_CONNECTIONS" | "VALIDATION_FAILED"
>;

/**
 * One try at the token per connection (ConnectRefusals). Socket.IO keeps the
 * engine connection open after a refused namespace CONNECT and takes another
 * CONNECT on it (`Client.ondecoded`), so without this one connection —
 * counted once by the per-address handshake limit — could guess hundreds of
 * tokens, and write as many log lines, until the connect timeout. So:
 * - a refused CONNECT closes its connection, once the `connect_error` is
 *   written (a real client still reads its `data.code`; socket.io-client
 *   closes the connection on a `connect_error` anyway, and reconnects with a
 *   new handshake, which the handshake limit counts);
 * - a connection's second CONNECT — pipelined behind the first in one read,
 *   or sent after a refusal — is refused without its token being looked at;
 * - refusals are logged once per remote address, then counted (RepeatedLog),
 *   so a flood costs a couple of lines with counts.
 *
 * @example
 *   const refusals = new ConnectRefusals(log);
 *   io.use(refusals.oneAttempt);
 *   io.use((socket, next) => {
 *     if (!valid(socket)) return next(refusals.refuse(socket, "UNAUTHORIZED", "refused connection: bad token"));
 *     next();
 *   });
 */
export class ConnectRefusals {
  readonly #log: RepeatedLog;
  /** Engine connections that already had their CONNECT looked at. */
  readonly #attempted = new WeakSet<EngineSocket>();

  constructor(log: SystemLogger, options: RepeatedLogOptions = {}) {
    this.#log = new RepeatedLog(log, options);
  }

  /** A namespace middleware, to run first: lets through the first CONNECT of each connection, refuses the rest. */
  readonly oneAttempt: Middleware = (socket, next) => {
    if (!this.#attempted.has(socket.conn)) {
      this.#attempted.add(socket.conn);
      return next();
    }
    // No client of berth's sends this: the connection ends at once, without an answer to either CONNECT (the
    // first one's is still to be written when a second was pipelined behind it), and its token is never read.
    const address = socket.handshake.address;
    const msg = "closed connection: a second CONNECT on one connection";
    this.#log.info(`${msg}\u0000${address}`, { address }, {}, msg);
    socket.conn.close();
    next(handshakeError("UNAUTHORIZED"));
  };

  /**
   * The error to pass to `next()` for a refused CONNECT; logs the refusal
   * (repeats of it from the address, and for the owner or the node id claimed
   * if one is named, only counted) and closes the connection after the `connect_error` is written.
   * `details` go to the client in the error's data, and to the log.
   */
  refuse(
    socket: RefusableSocket,
    code: ConnectRefusalCode,
    msg: string,
    options: { owner?: string; node?: string; details?: Record<string, unknown> } = {},
  ): Error {
    const address = socket.handshake.address;
    const context = {
      address,
      ...(options.owner === undefined ? {} : { owner: options.owner }),
      ...(options.node === undefined ? {} : { node: options.node }),
    };
    this.#log.info(
      `${msg}\u0000${address}\u0000${options.owner ?? ""}\u0000${options.node ?? ""}`,
      context,
      { code, ...options.details },
      msg,
    );
    closeAfterAnswer(socket.conn);
    return handshakeError(code, options.details);
  }

  /** Writes the counts of refusals not logged yet. */
  close(): void {
    this.#log.close();
  }
}

/**
 * Closes `conn` once the connect_error is written. Socket.IO writes it in a
 * process.nextTick after next(err) (Namespace._add), and a connection already
 * closing would drop it; every nextTick has run by the time an immediate
 * does. engine.io's close() then waits for its write buffer to drain — at
 * once on a WebSocket; on polling, at the client's next GET, for at most
 * REFUSED_DRAIN_MS.
 */
function closeAfterAnswer(conn: EngineSocket): void {
  setImmediate(() => {
    conn.close();
    if (conn.readyState !== "closing") return;
    const drained = setTimeout(() => conn.close(true), REFUSED_DRAIN_MS);
    conn.once("close", () => clearTimeout(drained));
  });
}
