import type { BerthServer } from "./berth-server.ts";
import type { ClusterSessions } from "./cluster-sessions.ts";
import type { BerthSocket } from "./register-handler.ts";
import { forgetWhenEndedForGood } from "./session-end.ts";

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
 * A connection that ends for good (a reason Socket.IO recovers nothing from)
 * has its session deleted (`forget`): Socket.IO keeps none then, and neither
 * may the copy written here, or a client cut off for good could come back
 * within two minutes with its rooms and every push since. Should the same
 * session live on another API server by then (recovered there while this
 * server had not noticed the old connection's end), that server writes it
 * again within SESSION_REFRESH_MS.
 *
 * Only with fan-out: the in-memory adapter would take each write for a
 * disconnect (it stamps the time), and a process that is killed loses its
 * memory anyway.
 */
export class SessionKeeper {
  readonly #io: BerthServer;
  readonly #sessions: Pick<ClusterSessions, "forget">;
  readonly #timer: NodeJS.Timeout;
  /** The sockets whose end is watched already (keep is called again every SESSION_REFRESH_MS). */
  readonly #watched = new WeakSet<BerthSocket>();

  constructor(io: BerthServer, sessions: Pick<ClusterSessions, "forget">, everyMs = SESSION_REFRESH_MS) {
    this.#io = io;
    this.#sessions = sessions;
    this.#timer = setInterval(() => {
      for (const socket of io.of("/").sockets.values()) this.keep(socket);
    }, everyMs);
    this.#timer.unref();
  }

  /** Writes the session of `socket` (its rooms joined, its data set) now, and forgets it when the socket ends for good. */
  keep(socket: BerthSocket): void {
    // `pid`, the private session id the client presents to recover, is Socket.IO's own (private in its docs).
    const { pid } = socket as unknown as { pid?: string };
    if (!pid) return;
    this.#io
      .of("/")
      .adapter.persistSession({ sid: socket.id, pid, rooms: [...socket.rooms], data: socket.data });
    if (this.#watched.has(socket)) return;
    this.#watched.add(socket);
    forgetWhenEndedForGood(socket, (ended) => this.#sessions.forget(ended));
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
