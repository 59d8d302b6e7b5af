import { type BerthClient, connect } from "@berth/client";
import { activityCursor } from "../activity/activity-cursor.ts";
import { tokenStore } from "./token-store.ts";

/** A signed-in dashboard: the client, and whether its token is the admin's (who sees every owner). */
export interface Session {
  client: BerthClient;
  isAdmin: boolean;
}

/**
 * Connects to the berth that served the page with `token`, over WebSocket
 * only; the token travels in the Socket.IO handshake's `auth`, never in the
 * URL. Kept in this tab's storage once berth accepted it.
 *
 * @example
 *   const session = await signIn(token); // throws a BerthError (UNAUTHORIZED, CONNECTION_FAILED…)
 */
export async function signIn(token: string): Promise<Session> {
  const client = await connect(window.location.origin, { token, transports: ["websocket"] });
  tokenStore.write(token);
  // server:info gives the admin no quota: that, not a name, is how a client tells the admin's token.
  return { client, isAdmin: client.info.quota === null };
}

/** Ends the session: closes the connection and forgets the token. Safe to call twice. */
export async function signOut(session: Session | undefined): Promise<void> {
  tokenStore.clear();
  // The next person to sign in on this tab starts the activity afresh, not from this one's place.
  activityCursor.clear();
  await session?.client.close();
}
