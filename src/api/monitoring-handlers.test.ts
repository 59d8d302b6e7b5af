import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ContainerInfo, ListResult } from "#protocol";
import { eventually } from "../../test/helpers/deadline.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerTelemetry } from "../monitoring/container-telemetry.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { InOrder } from "./in-order.ts";
import { type MonitoringServices, registerMonitoringHandlers } from "./monitoring-handlers.ts";
import type { BerthSocket } from "./register-handler.ts";
import { StatsOverviews } from "./stats-overview.ts";
import { SubscriptionCap } from "./subscription-cap.ts";
import { Subscriptions } from "./subscriptions.ts";
import { FakeConnection } from "./testing/fake-connection.ts";

const running = (id: string) => ({ id, owner: "alice", state: "running" }) as ContainerInfo;

describe("containers:watch_stats", () => {
  it("opens no overview for a connection that left while its containers were being listed", async () => {
    const connection = new FakeConnection();
    const watching = new Set<string>();
    let listed!: (page: ListResult) => void;
    let asked = false;
    const subscriptions = new Subscriptions();
    const overviews = new StatsOverviews();
    const services: MonitoringServices = {
      // The store's answer is held until the connection has gone.
      manager: {
        list: () => {
          asked = true;
          return new Promise<ListResult>((r) => {
            listed = r;
          });
        },
      },
      telemetry: {
        watchById: (id: string) => {
          watching.add(id);
          return () => watching.delete(id);
        },
      } as unknown as ContainerTelemetry,
      subscriptions,
      overviews,
    };
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    const limits = {
      closed: connection.signal,
      guard: { admit: () => true, admitAll: () => true },
      reads: { run: (fn: () => unknown) => fn() },
      subscriptions: new SubscriptionCap(10, subscriptions),
      inOrder: new InOrder(),
    } as unknown as ConnectionLimits;
    registerMonitoringHandlers(
      connection as unknown as BerthSocket,
      services,
      { log, redactor: secrets },
      limits,
    );

    const answer = connection.ask("containers:watch_stats", {});
    await eventually(10_000, "the containers were asked for", () => asked, 0);
    connection.disconnect();
    listed({ items: [running("C1")] } as ListResult);

    expect(await answer).toMatchObject({ ok: false, error: { code: "CONNECTION_CLOSED" } });
    expect(subscriptions.size).toBe(0);
    expect(watching.size).toBe(0);
    // A container that starts later is not followed for the connection that left.
    overviews.follow(running("C2"));
    expect(watching.size).toBe(0);
  });
});
