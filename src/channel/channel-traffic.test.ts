import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ContainerTraffic } from "./channel-observer.ts";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { RawWorkload } from "./testing/raw-workload.ts";

/** A ContainerTraffic that remembers what it was told. */
function recording() {
  const seen = {
    requests: [] as Array<{ seconds: number; code: string }>,
    refused: [] as string[],
    in: 0,
    out: 0,
  };
  const traffic: ContainerTraffic = {
    requestEnded: (seconds, error) =>
      seen.requests.push({ seconds, code: error === undefined ? "ok" : (error as { code: string }).code }),
    received: (bytes) => {
      seen.in += bytes;
    },
    sent: (bytes) => {
      seen.out += bytes;
    },
    frameRefused: (code) => seen.refused.push(code),
    held: () => {},
  };
  return { seen, traffic };
}

describe("the channel's traffic, as told to its observer", () => {
  let h: ChannelHarness;
  let workload: RawWorkload;
  let seen: ReturnType<typeof recording>["seen"];
  const asked: string[] = [];
  const forgotten: string[] = [];

  beforeEach(async () => {
    const r = recording();
    seen = r.seen;
    // No heartbeat: its pings and pongs would be counted among the bytes.
    h = await openHarness({
      heartbeatIntervalMs: 0,
      observer: {
        forContainer: (id) => {
          asked.push(id);
          return r.traffic;
        },
        forget: (id) => forgotten.push(id),
      },
    });
    workload = await RawWorkload.hello(h.path);
  });
  afterEach(async () => {
    await workload.destroy();
    await h.cleanup();
  });

  it("asks for one handle per channel, by the container's id", () => {
    expect(asked.at(-1)).toBe(TEST_ID);
  });

  it("tells the observer to forget a channel closed for good, once its connection is gone, and not at shutdown", async () => {
    forgotten.length = 0;
    const closed = h.hub.close(TEST_ID);
    expect(forgotten).toEqual([]);
    await closed;
    expect(forgotten).toEqual([TEST_ID]);
    // A channel whose open failed is closed too (a create's undo): nothing open, but its handle was asked for.
    await h.hub.close("C000000000NO");
    expect(forgotten).toEqual([TEST_ID, "C000000000NO"]);
    await h.hub.open(TEST_ID, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    await h.hub.closeAll();
    expect(forgotten).toEqual([TEST_ID, "C000000000NO"]);
  });

  it("reports each request's outcome and latency: answered, failed by the workload, timed out", async () => {
    const ok = h.hub.request(TEST_ID, "hi");
    workload.send({ type: "response", id: (await workload.next("request")).id, data: 1 });
    await ok;
    const failed = h.hub.request(TEST_ID, "fail").catch(() => {});
    workload.send({ type: "response", id: (await workload.next("request")).id, error: { message: "no" } });
    await failed;
    await h.hub.request(TEST_ID, "never answered", { timeoutMs: 200 }).catch(() => {});
    expect(seen.requests.map((r) => r.code)).toEqual(["ok", "WORKLOAD_ERROR", "CHANNEL_TIMEOUT"]);
    expect(seen.requests[0]?.seconds).toBeGreaterThan(0);
    // An answer in the same process, with room for a loaded machine.
    expect(seen.requests[0]?.seconds).toBeLessThan(5);
    // The timed-out request's latency is its wait. Not to the millisecond: its timer starts from the event
    // loop's cached clock, which lags performance.now() by however long the current turn has run — CI read
    // 49.9 ms for 50, and a loaded machine can lag by tens of ms. Half the timeout still tells a wait
    // measured from the send from one measured from anywhere else.
    expect(seen.requests[2]?.seconds).toBeGreaterThanOrEqual(0.1);
  });

  it("counts the bytes each way, multi-byte text as its UTF-8 bytes", async () => {
    const before = { in: seen.in, out: seen.out };
    const answered = h.hub.request(TEST_ID, "✓");
    workload.send({ type: "response", id: (await workload.next("request")).id, data: "ü" });
    await answered;
    expect(seen.out - before.out).toBe(Buffer.byteLength('{"type":"request","id":"1","data":"✓"}\n'));
    expect(seen.in - before.in).toBe(Buffer.byteLength('{"type":"response","id":"1","data":"ü"}\n'));
  });

  it("reports each refused frame with its protocol error", async () => {
    workload.sendRaw("not json\n");
    workload.send({ type: "nonsense" });
    await workload.next("error");
    await workload.next("error");
    expect(seen.refused).toEqual(["BAD_FRAME", "UNKNOWN_TYPE"]);
  });
});
