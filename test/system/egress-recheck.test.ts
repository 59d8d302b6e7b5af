import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeIptables } from "../../src/network/testing/fake-iptables.ts";
import { PgContainerStore } from "../../src/store/postgres/pg-container-store.ts";
import { SqliteContainerStore } from "../../src/store/sqlite/sqlite-container-store.ts";
import { eventually } from "../helpers/deadline.ts";
import { echoCode, startTestServer } from "../helpers/test-server.ts";
import { TEST_STORE } from "../helpers/test-store.ts";

/** A filter table whose every command takes a while, as iptables does waiting for its lock. */
class SlowIptables extends FakeIptables {
  override async run(args: readonly string[]): Promise<string> {
    await new Promise((r) => setTimeout(r, 40));
    return super.run(args);
  }
}

describe("the periodic egress re-check", () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs a store that cannot be read and carries on, rather than end berth with an unhandled rejection", async () => {
    const server = await startTestServer({}, { egressRecheckMs: 50 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // The seam is the store's prototype (the one this run uses): a real SQLite read error needs a broken
      // database file under an open handle, which SQLite would only notice on pages it has not cached.
      const store = TEST_STORE === "postgres" ? PgContainerStore.prototype : SqliteContainerStore.prototype;
      const all = vi.spyOn(store, "all").mockRejectedValue(new Error("disk I/O error"));
      await eventually(
        5_000,
        "the failed re-check is logged twice (so it ran again after the failure)",
        () => {
          return (
            server
              .logs()
              .split("\n")
              .filter((l) => l.includes("could not check the egress filter")).length >= 2
          );
        },
      );
      expect(all).toHaveBeenCalled();
      expect(unhandled).toEqual([]);
      // berth still answers.
      await (await server.connect("alice")).close();
    } finally {
      process.off("unhandledRejection", onUnhandled);
      vi.restoreAllMocks();
      await server.close();
    }
  });

  it("lets a pass under way finish before close() resolves, so no rule is put back after berth is gone", async () => {
    const iptables = new SlowIptables();
    const server = await startTestServer({ BERTH_ALLOW_NETWORK: "true" }, { iptables, egressRecheckMs: 20 });
    try {
      const alice = await server.connect("alice");
      await alice.containers.create({ name: "out", network: "outbound", code: await echoCode() });
      // Wait until a re-check pass is under way (its slow iptables calls keep coming).
      const before = iptables.calls.length;
      await eventually(5_000, "a re-check pass is under way", () => iptables.calls.length > before);
      await server.berth.close();
      const atClose = iptables.calls.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(iptables.calls.length).toBe(atClose);
    } finally {
      await server.close();
    }
  });
});
