import { BerthError } from "../errors/berth-error.ts";
import { toWireError } from "../errors/to-wire.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { RequestSchemas } from "./contract.ts";
import { nearestNames } from "./nearest-names.ts";
import type { BerthSocket } from "./register-handler.ts";

/**
 * The longest event name looked at: berth's own are under 30 characters, and
 * a hostile client may send a name of megabytes — the suggestions' edit
 * distance costs this times the length of a known name, per event.
 */
export const MAX_EVENT_NAME_CONSIDERED = 64;

const KNOWN_EVENTS = Object.keys(RequestSchemas);

/** The answer to an event berth does not have: which ones are near, so that a typo says how to fix itself. */
export class UnknownEventError extends BerthError {
  constructor(event: string) {
    const shown = event.slice(0, MAX_EVENT_NAME_CONSIDERED);
    const suggestions = nearestNames(shown, KNOWN_EVENTS, 3);
    const cut = event.length > shown.length ? "…" : "";
    super(
      "UNKNOWN_EVENT",
      `berth has no event '${shown}${cut}'; did you mean ${suggestions.map((s) => `'${s}'`).join(", ")}? The events are listed in the README (API) and src/api/contract.ts.`,
      { details: { event: shown, suggestions } },
    );
  }
}

/**
 * Answers, at once, every event sent with an acknowledgement callback that
 * is not in the contract: without this a typo in an event name waits for the
 * client's own timeout. An event without an acknowledgement stays ignored,
 * as a known one would be. Known events are left to their own handlers.
 */
export function answerUnknownEvents(
  socket: BerthSocket,
  context: { log: SystemLogger; redactor: OwnerRedactors },
): void {
  socket.onAny((event: unknown, ...args: unknown[]) => {
    const name = typeof event === "string" ? event : String(event);
    if (Object.hasOwn(RequestSchemas, name)) return;
    const ack = args.at(-1);
    if (typeof ack !== "function") return;
    const err = new UnknownEventError(name);
    context.log.debug({ event: err.details?.event }, "answered an unknown event");
    try {
      (ack as (r: unknown) => void)({
        ok: false,
        error: toWireError(err, context.redactor.forViewer(socket.data)),
      });
    } catch (ackErr) {
      context.log.warn({ err: ackErr }, "acknowledgement failed");
    }
  });
}
