import type { Socket } from "socket.io";
import type { z } from "zod";
import type { ClientEvent, ClientToServerEvents, ResultMap, ServerToClientEvents } from "#protocol";
import type { Actor } from "../containers/actor.ts";
import { ForbiddenError } from "../errors/errors.ts";
import { fromZodError, toWireError } from "../errors/to-wire.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type InterServerEvents, RequestSchemas, type SocketData } from "./contract.ts";

export type BerthSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export type Handler<E extends ClientEvent> = (
  payload: z.output<(typeof RequestSchemas)[E]>,
  actor: Actor,
  log: SystemLogger,
) => Promise<ResultMap[E]> | ResultMap[E];

/**
 * Binds one client event to its handler: validates the payload with the
 * contract's schema, runs the handler, and answers through the
 * acknowledgement with `{ ok, data }` or `{ ok: false, error }`. An event
 * without an acknowledgement callback is ignored (and logged): every berth
 * operation answers, and one whose answer nobody awaits is a client bug.
 * With `adminOnly`, an owner's connection is refused FORBIDDEN before its
 * payload is even looked at.
 */
export function registerHandler<E extends ClientEvent>(
  socket: BerthSocket,
  event: E,
  handler: Handler<E>,
  context: { log: SystemLogger; redactor: OwnerRedactors; adminOnly?: boolean },
): void {
  const schema = RequestSchemas[event];
  const log = context.log.child({ event });
  const listener = async (...args: unknown[]) => {
    const ack = args.at(-1);
    if (typeof ack !== "function") {
      context.log.debug({ event }, "ignored event without acknowledgement");
      return;
    }
    const payload = args.length > 1 ? args[0] : undefined;
    const started = performance.now();
    let response: unknown;
    try {
      if (context.adminOnly === true && !socket.data.admin) throw new ForbiddenError(`'${event}'`);
      if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
        throw fromZodError({
          issues: [{ path: [], message: "the payload must be an object" }],
        } as unknown as z.ZodError);
      }
      const parsed = schema.safeParse(payload);
      if (!parsed.success) throw fromZodError(parsed.error);
      const data = await handler(parsed.data as z.output<(typeof RequestSchemas)[E]>, socket.data, log);
      response = { ok: true, data };
      log.debug({ ms: Math.round(performance.now() - started) }, "handled");
    } catch (err) {
      // Redacted for whoever asked: their own secrets and token, never another owner's.
      const error = toWireError(err, context.redactor.forViewer(socket.data));
      const level = error.code === "INTERNAL" ? "error" : "info";
      log[level]({ err, code: error.code, ms: Math.round(performance.now() - started) }, "request failed");
      response = { ok: false, error };
    }
    try {
      (ack as (r: unknown) => void)(response);
    } catch (err) {
      log.warn({ err }, "acknowledgement failed");
    }
  };
  // The typed contract cannot express "any arguments"; the listener checks them itself.
  // The listener answers every failure itself: its promise never rejects.
  (socket as unknown as { on(e: string, l: (...a: unknown[]) => void): void }).on(event, (...args) => {
    void listener(...args);
  });
}
