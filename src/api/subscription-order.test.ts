import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ContainerInfo, ListResult } from "#protocol";
import { eventually } from "../../test/helpers/deadline.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerTelemetry } from "../monitoring/container-telemetry.ts";
import { registerChannelHandlers } from "./channel-handlers.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { InOrder } from "./in-order.ts";
import { registerMonitoringHandlers } from "./monitoring-handlers.ts";
import type { BerthSocket } from "./register-handler.ts";
import { messagesRoom } from "./rooms.ts";
import { StatsOverviews } from "./stats-overview.ts";
import { SubscriptionCap } from "./subscription-cap.ts";
import { OVERVIEW_KEY, Subscriptions } from "./subscriptions.ts";
import { FakeConnection } from "./testing/fake-connection.ts";
import type { WorkloadMessaging } from "./workload-messaging.ts";

const ID = "c0ffee00c0ffee00";

/** A lookup whose answers come back in the order the test releases them, as a pooled store's may. */
class HeldLookups {
  readonly #held: (() => void)[] = [];

  answer<T>(value: T): Promise<T> {
    return new Promise((resolve) => this.#held.push(() => resolve(value)));
  }

  get waiting(): number {
    return this.#held.length;
  }

  /** Releases the held answers, newest first. */
  releaseNewestFirst(): void {
    while (this.#held.length > 0) this.#held.pop()!();
  }
}

function setUp() {
  const connection = new FakeConnection();
  const secrets = new SecretRegistry();
  const log = createSystemLogger({
    level: "silent",
    redactor: secrets.system,
    destination: new PassThrough(),
  });
  const subscriptions = new Subscriptions();
  const limits = {
    closed: connection.signal,
    guard: { admit: () => true, admitAll: () => true },
    inFlight: { run: (fn: () => unknown) => fn() },
    reads: { run: (fn: () => unknown) => fn() },
    subscriptions: new SubscriptionCap(10, subscriptions),
    inOrder: new InOrder(),
  } as unknown as ConnectionLimits;
  return {
    connection,
    socket: connection as unknown as BerthSocket,
    context: { log, redactor: secrets },
    limits,
    subscriptions,
  };
}

/** Lets every answer released so far run to its end. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

/**
 * Releases whatever lookups wait, newest first, until `answer` has come: a poll with a deadline, so that an
 * answer that never comes fails as such, not as the test's timeout.
 */
async function releasingUntil(answer: Promise<unknown>, lookups: HeldLookups): Promise<void> {
  await eventually(
    15_000,
    "the last change answered",
    async () => {
      if (await Promise.race([answer.then(() => true), settle().then(() => false)])) return true;
      lookups.releaseNewestFirst();
      return false;
    },
    0,
  );
}

describe("a connection's subscription changes, when the store answers its lookups out of order", () => {
  it("leaves it subscribed to a container's messages after an unsubscribe and then a subscribe", async () => {
    const { connection, socket, context, limits } = setUp();
    const lookups = new HeldLookups();
    const manager = { resolve: () => lookups.answer({ id: ID }) } as unknown as ContainerManager;
    registerChannelHandlers(socket, manager, {} as WorkloadMessaging, context, limits);
    connection.join(messagesRoom(ID));

    const left = connection.ask("container:unsubscribe", { id: ID });
    const joined = connection.ask("container:subscribe", { id: ID });
    // The second lookup can only be asked once the first change is done; release whatever waits, newest first.
    await releasingUntil(joined, lookups);

    expect(await left).toMatchObject({ ok: true, data: { subscribed: false } });
    expect(await joined).toMatchObject({ ok: true, data: { subscribed: true } });
    expect(connection.rooms.has(messagesRoom(ID))).toBe(true);
  });

  it("leaves it not watching a container's stats after a watch and then an unwatch, with no watch running", async () => {
    const { connection, socket, context, limits, subscriptions } = setUp();
    const lookups = new HeldLookups();
    const watching = new Set<number>();
    let next = 0;
    const telemetry = {
      container: () =>
        lookups.answer({
          id: ID,
          watch: () => {
            const n = next++;
            watching.add(n);
            return () => watching.delete(n);
          },
        }),
    } as unknown as ContainerTelemetry;
    registerMonitoringHandlers(
      socket,
      { manager: {} as never, telemetry, subscriptions, overviews: new StatsOverviews() },
      context,
      limits,
    );

    const watched = connection.ask("container:watch_stats", { id: ID });
    const unwatched = connection.ask("container:unwatch_stats", { id: ID });
    await releasingUntil(unwatched, lookups);

    expect(await watched).toMatchObject({ ok: true, data: { id: ID } });
    expect(await unwatched).toMatchObject({ ok: true, data: { watching: false } });
    expect(subscriptions.has(connection.id, Subscriptions.key("stats", ID))).toBe(false);
    expect(watching.size).toBe(0);
  });

  it("stops the overview when the unwatch was sent after the watch, though the watch waited on the store", async () => {
    const { connection, socket, context, limits, subscriptions } = setUp();
    let listed!: (page: ListResult) => void;
    const manager = {
      list: () =>
        new Promise<ListResult>((resolve) => {
          listed = resolve;
        }),
    };
    registerMonitoringHandlers(
      socket,
      {
        manager,
        telemetry: { watchById: () => () => {} } as unknown as ContainerTelemetry,
        subscriptions,
        overviews: new StatsOverviews(),
      },
      context,
      limits,
    );

    const watched = connection.ask("containers:watch_stats", {});
    const unwatched = connection.ask("containers:unwatch_stats", {});
    await settle();
    listed({ items: [{ id: ID, owner: "alice", state: "running" } as ContainerInfo] } as ListResult);

    expect(await watched).toMatchObject({ ok: true });
    expect(await unwatched).toMatchObject({ ok: true, data: { watching: false } });
    expect(subscriptions.has(connection.id, OVERVIEW_KEY)).toBe(false);
  });
});
