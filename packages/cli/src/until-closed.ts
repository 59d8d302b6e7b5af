import { type BerthClient, isBerthError } from "@berth/client";

/**
 * Waits until `berth` is closed for good: resolves when the CLI closed it
 * itself (`close()`, on Ctrl-C), rejects with what closed it otherwise —
 * SESSION_REVOKED when berth revoked the token, or the refusal that ended a
 * reconnection — so that a following command fails (exit 1) instead of
 * ending as if it had been told to. The client keeps that error to itself
 * but fails every call after the close with it, so one call (never sent)
 * asks for it.
 *
 * @example await untilClosed(berth); // in `activity -f`, whose feed has no end of its own
 */
export function untilClosed(berth: BerthClient): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let off: (() => void) | undefined;
    const check = (state: string) => {
      if (state !== "closed") return;
      off?.();
      berth.call("server:info", {}).then(
        () => resolve(),
        (err: unknown) => (isBerthError(err, "CLOSED") ? resolve() : reject(err)),
      );
    };
    off = berth.on("connection", check);
    check(berth.state);
  });
}
