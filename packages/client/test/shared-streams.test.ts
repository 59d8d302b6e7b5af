import { describe, expect, it } from "vitest";
import { clientStreams } from "../src/client-streams.ts";
import { FakeCore, settle } from "./fake-core.ts";

describe("SharedStreams", () => {
  it("asks berth to stop a watch after its last iterator returns, not before, and then stops listening", async () => {
    const fake = new FakeCore();
    fake.handlers["container:watch_stats"] = (p: { id: string }) => ({ id: p.id, watching: true });
    fake.handlers["container:unwatch_stats"] = (p: { id: string }) => ({ id: p.id, watching: false });
    const { stats } = clientStreams(fake.core);
    const [a, b] = [stats.open("c1", {}), stats.open("c1", {})];
    await settle();
    expect(fake.callsOf("container:watch_stats")).toHaveLength(1);
    await a.return();
    expect(fake.callsOf("container:unwatch_stats")).toHaveLength(0);
    await b.return();
    expect(fake.callsOf("container:unwatch_stats")).toHaveLength(1);
    expect(fake.socket.listenerCount("container:resource_usage")).toBe(0);
    expect(fake.streams.size).toBe(0);
  });

  it("counts berth's container:dropped for a container's stats in the dropped of that container's watches only", async () => {
    const fake = new FakeCore();
    fake.handlers["container:watch_stats"] = (p: { id: string }) => ({ id: p.id, watching: true });
    const { stats } = clientStreams(fake.core);
    const watch = stats.open("c1", {});
    const other = stats.open("c2", {});
    await settle();
    fake.push("container:dropped", { id: "c1", stream: "stats", count: 4 });
    fake.push("container:dropped", { id: "c1", stream: "logs", count: 9 });
    expect([watch.dropped, other.dropped]).toEqual([4, 0]);
    stats.end();
  });
});
