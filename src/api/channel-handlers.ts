import type { ContainerManager } from "../containers/container-manager.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";
import { messagesRoom } from "./rooms.ts";
import type { WorkloadMessaging } from "./workload-messaging.ts";

/**
 * The channel events: one-way messages and requests to the process inside a
 * container, and subscriptions to what it sends. The data is application data
 * and passes through untouched (never redacted, never logged). Calls waiting
 * for an answer and subscriptions are capped per connection (`limits`).
 *
 * A request and a message are the hot calls: the caller's right to reach the
 * container is checked from memory where the store's notices allow it
 * (`manager.reach`), with the same answers as the store's. A subscription is
 * made once per session, and reads the store.
 */
export function registerChannelHandlers(
  socket: BerthSocket,
  manager: ContainerManager,
  channel: WorkloadMessaging,
  context: { log: SystemLogger; redactor: OwnerRedactors },
  limits: Pick<ConnectionLimits, "closed" | "inFlight" | "subscriptions" | "inOrder">,
): void {
  registerHandler(
    socket,
    "container:send",
    (p, actor) =>
      limits.inFlight.run(async () => {
        const id = await manager.reach(actor, p.id, async (id) => {
          await channel.send(id, p.data);
          return id;
        });
        return { id };
      }),
    context,
  );
  registerHandler(
    socket,
    "container:request",
    (p, actor) =>
      limits.inFlight.run(async () => {
        // A disconnect cancels the call at once: nobody is left to receive its answer.
        return manager.reach(actor, p.id, (id) =>
          channel.request(id, p.data, {
            signal: limits.closed,
            ...(p.timeoutMs === undefined ? {} : { timeoutMs: p.timeoutMs }),
          }),
        );
      }),
    context,
  );
  registerHandler(
    socket,
    "container:subscribe",
    (p, actor) =>
      limits.inOrder.run(`messages:${p.id}`, async () => {
        const { id } = await manager.resolve(actor, p.id);
        await limits.subscriptions.open(socket, messagesRoom(id), () => socket.join(messagesRoom(id)));
        return { id, subscribed: true as const };
      }),
    context,
  );
  registerHandler(
    socket,
    "container:unsubscribe",
    (p, actor) =>
      limits.inOrder.run(`messages:${p.id}`, async () => {
        const { id } = await manager.resolve(actor, p.id);
        await socket.leave(messagesRoom(id));
        return { id, subscribed: false as const };
      }),
    context,
  );
}
