import type { BerthServer } from "./berth-server.ts";
import type { BerthSocket } from "./register-handler.ts";

/**
 * How often each connection's session is written again. The adapter keeps a
 * session for the recovery window (two minutes) from its last write, so a
 * session written every 30 s outlives its server by 90 s at least.
 */
export const SESSION_REFRESH_MS = 30_000;

/**
 * Keeps every connection's session in the cluster adapter (Redis) while the
 * connection lasts, not only once it ends. Socket.IO writes a session when
 * its server sees the connection drop; an API server that is killed (SIGKILL,
 * its host lost) sees nothing, and without this its clients, reconnecting to
 * another server, would start fresh sessions and lose the pushes sent while
 * they were away. With it they recover there as from a server that closed.
 *
 * Only with fan-out: the in-memory adapter would take each write for a
 * disconnect (it stamps the time), and a process that is killed loses its
 * memory anyway.
 */
export class SessionKeeper {
  readonly #io: BerthServer;
  readonly #timer: NodeJS.Timeout;

  constructor(io: BerthServer, everyMs = SESSION_REFRESH_MS) {
    this.#io = io;
    this.#timer = setInterval(() => {
      for (const socket of io.of("/").sockets.values()) this.keep(socket);
    }, everyMs);
    this.#timer.unref();
  }

  /** Writes the session of `socket` (its rooms joined, its data set) now. */
  keep(socket: BerthSocket): void {
    // `pid`, the private session id the client presents to recover, is Socket.IO's own (private in its docs).
    const { pid } = socket as unknown as { pid?: string };
    if (!pid) return;
    this.#io
      .of("/")
      .adapter.persistSession({ sid: socket.id, pid, rooms: [...socket.rooms], data: socket.data });
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
