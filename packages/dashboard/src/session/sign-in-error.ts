import { isBerthError } from "@berth/client";

/**
 * What the sign-in form says when `connect` fails, chosen by the BerthError's
 * code: the server's own message may name the transport's details, which a
 * person at the form does not need. Never includes the token.
 */
export function signInErrorText(err: unknown): string {
  if (isBerthError(err, "UNAUTHORIZED")) {
    return "berth did not accept that token. Check that you copied all of it, then try again.";
  }
  if (isBerthError(err, "TOO_MANY_CONNECTIONS")) {
    return "This token already has as many connections open as berth allows. Close another tab or client, then try again.";
  }
  if (isBerthError(err, "CONNECTION_FAILED")) {
    return "berth did not answer. Check that it is running and reachable, then try again.";
  }
  if (isBerthError(err)) return `Signing in failed (${err.code}): ${err.message}`;
  return "Signing in failed for a reason berth did not say. Try again.";
}
