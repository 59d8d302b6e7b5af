import { describe, expect, it } from "vitest";
import { clientStreams } from "../src/client-streams.ts";
import { FakeCore, settle } from "./fake-core.ts";

describe("SharedStreams", () => {
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
