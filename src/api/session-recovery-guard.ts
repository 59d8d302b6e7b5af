import type { Namespace } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents } from "#protocol";
import type { ClusterSessions } from "./cluster-sessions.ts";
import type { InterServerEvents, SocketData } from "./contract.ts";

type BerthNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type Session = NonNullable<Awaited<ReturnType<BerthNamespace["adapter"]["restoreSession"]>>>;

/**
 * Lets a reconnect restore a session only when `mayRestore` says the token it
 * presents is the one the session was made with; any other reconnect starts a
 * fresh session (and then has to pass the handshake like any other).
 *
 * Why here, and not in a middleware: in socket.io 4.8, `Namespace._add` first
 * restores the session named by `auth.pid` and `auth.offset` from the
 * adapter, and the Socket's constructor at once re-joins the session's rooms
 * and writes every packet it missed to the connection — before any
 * middleware runs, with `skipMiddlewares` or without. A middleware that
 * refuses the token afterwards is too late: the missed packets are already
 * on the wire. So the decision is made before `_add` (declared on the
 * Namespace's public type, though marked private in its docs), by looking at
 * the stored session through the adapter's own `restoreSession`.
 *
 * The session is looked up once: `_add` is handed the very session checked
 * here, never one of its own look-up. The Redis-streams adapter's look-up
 * consumes the session (GETDEL), so a second one would find nothing and no
 * session would ever be recovered across servers; and a store that answered
 * differently the second time (null first, a session then) could otherwise
 * restore a session nobody checked.
 *
 * A refused session is written back only where the look-up consumed it
 * (`sessions`, the fan-out's: Redis's GETDEL), with the lifetime it had left;
 * the in-memory adapter's look-up leaves it where it was, and writing it there
 * would stamp it as a new disconnect. Two tries at once with one pid (its
 * owner's and a refused one): the first look-up takes the session, the other
 * finds none and starts fresh; if the refused try took it, its owner starts a
 * fresh session and catches up with `activity:history` as after any gap. It
 * takes the secret pid to race, and it never shows anyone's pushes to
 * another, so it is left as it is.
 *
 * A restored session's socket id may still be live here: a client whose
 * transport died unnoticed (a phone changing networks; the server learns of
 * it at its ping timeout) comes back at once with its pid, and SessionKeeper
 * (fan-out) or the in-memory adapter (a session is kept there after its
 * recovery) still holds the session. That old socket is disconnected before
 * the new one is added: its end would otherwise remove the shared id from
 * every room and from the namespace, and with it the new connection's pushes
 * (and its subscriptions and bounds, which berth keys by socket id). The
 * newest connection is the one its client uses; refusing the recovery instead
 * would cost the client its missed pushes and leave the dead one counted
 * against its owner's cap until the ping timeout. A live socket with that id
 * on another API server is left alone: rooms are per server, so its end
 * touches only that server's (it ends at its own ping timeout).
 */
export function guardSessionRecovery(
  nsp: BerthNamespace,
  mayRestore: (token: unknown, session: SocketData) => boolean,
  sessions?: Pick<ClusterSessions, "returnSession">,
): void {
  const add = nsp._add.bind(nsp);
  const adapter = nsp.adapter;
  const lookUp = adapter.restoreSession.bind(adapter);
  /** The session checked and allowed, for the `_add` called next (which asks for it synchronously). */
  let handed: { pid: string; offset: string; session: Session } | undefined;
  // socket.io's type says a session always comes back; null (none) is what its in-memory adapter answers too.
  adapter.restoreSession = ((pid: string, offset: string) => {
    const checked = handed;
    handed = undefined;
    return Promise.resolve(checked?.pid === pid && checked.offset === offset ? checked.session : null);
  }) as typeof adapter.restoreSession;
  nsp._add = async (client, auth, fn) => {
    const { pid, offset, ...fresh } = auth;
    if (typeof pid !== "string" || typeof offset !== "string") return add(client, fresh, fn);
    // The adapter answers a promise, or plain null for a session it never held (socket.io-adapter's
    // in-memory one after a berth restart): `.catch` on that threw, the handshake never ended, and every
    // client that came back after a restart with its old session id waited for ever.
    let session: Session | null = null;
    try {
      session = await lookUp(pid, offset);
    } catch {
      session = null;
    }
    if (!session) return add(client, fresh, fn);
    if (!mayRestore(auth.token, session.data as SocketData)) {
      // Left to its owner: a refused attempt (another owner's token, a revoked one) must not cost the owner
      // its session where the look-up consumed it, nor give it a new lifetime.
      sessions?.returnSession(session);
      return add(client, fresh, fn);
    }
    // Synchronously, before `add` restores the session onto the same id and joins its rooms.
    nsp.sockets.get(session.sid)?.disconnect(true);
    handed = { pid, offset, session };
    try {
      return add(client, auth, fn);
    } finally {
      // Taken by then: `_add` asks the adapter before its first await. Should a later socket.io ask
      // after one, nothing is restored (fails closed), and the recovery tests say so.
      handed = undefined;
    }
  };
}
