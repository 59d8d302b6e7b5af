import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SocketCommunicationHandler } from "../../../src/channel/socket-communication-handler.ts";
import { type ChannelHarness, openHarness, TEST_ID } from "../../../src/channel/testing/channel-harness.ts";
import { RawWorkload } from "../../../src/channel/testing/raw-workload.ts";
import { eventually, within } from "../../../test/helpers/deadline.ts";
import { PythonWorkload } from "./python-workload.ts";

const FRAME_LIMIT = 4096;
/**
 * How long to wait for what the workload does: it runs in a container, through the engine, which a loaded
 * machine can make take seconds; a wait ends as soon as the awaited line or event comes.
 */
const WAIT_MS = 15_000;
/** Reconnect quickly in tests: 50 ms, doubling up to 400 ms. */
const FAST_BACKOFF = { BERTH_TEST_BACKOFF: "0.05,0.4" };

// Each test starts a container: the unit project's 20 s is short for one on a loaded machine.
describe("berth_workload (Python) against berth's channel", { timeout: 60_000 }, () => {
  let h: ChannelHarness;
  const workloads: PythonWorkload[] = [];

  beforeEach(async () => {
    // A queue large enough for a thousand requests at once.
    h = await openHarness({ maxFrameBytes: FRAME_LIMIT, maxQueuedBytes: 1024 * 1024 });
  });
  afterEach(async () => {
    await Promise.all(workloads.splice(0).map((w) => w.stop()));
    await h.cleanup();
  });

  function start(script = "async_workload.py", env: Record<string, string> = {}): PythonWorkload {
    const w = new PythonWorkload(script, h.path, { ...FAST_BACKOFF, ...env });
    workloads.push(w);
    return w;
  }

  async function ready(w: PythonWorkload): Promise<void> {
    await within(WAIT_MS, `the workload's welcome (stderr: ${w.stderr})`, h.hub.waitForHello(TEST_ID));
    await within(WAIT_MS, "the workload's welcome line", w.line(/^welcome /));
  }

  it("says hello with its meta and is welcomed with berth's frame limit", async () => {
    const w = start();
    await ready(w);
    expect(await w.line(/^welcome /)).toBe(`welcome ${TEST_ID} ${FRAME_LIMIT}`);
    expect(h.hub.status(TEST_ID)).toMatchObject({
      connected: true,
      protocol: 1,
      meta: { app: "python-test", pid: expect.any(Number) },
    });
    await expect(h.hub.request(TEST_ID, { op: "echo", data: [1, "ü", null] })).resolves.toEqual({
      echo: [1, "ü", null],
    });
  });

  it("answers large frames with multi-byte text intact (read in several chunks)", async () => {
    const big = await openHarness({ maxFrameBytes: 256 * 1024 });
    const w = new PythonWorkload("async_workload.py", big.path, FAST_BACKOFF);
    try {
      await within(WAIT_MS, `the workload's welcome (stderr: ${w.stderr})`, big.hub.waitForHello(TEST_ID));
      for (const chars of [16_000, 60_000]) {
        const text = "ü✓𝄞a".repeat(Math.ceil(chars / 5)).slice(0, chars);
        await expect(big.hub.request(TEST_ID, { op: "echo", data: text })).resolves.toEqual({ echo: text });
      }
    } finally {
      await w.stop();
      await big.cleanup();
    }
  });

  it("answers 1,000 requests in flight, each as soon as it is done", async () => {
    const w = start();
    await ready(w);
    const finished: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, n) =>
        h.hub.request(TEST_ID, { op: "sleep", n, ms: (n % 10) * 20 }).then((answer) => {
          finished.push(n);
          return answer;
        }),
      ),
    );
    expect(answers).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    // Request 0 sleeps 0 ms and request 9 sleeps 180 ms: answers come in the order they finish.
    expect(finished).not.toEqual([...finished].sort((a, b) => a - b));
    expect(finished.indexOf(10)).toBeLessThan(finished.indexOf(9));
  });

  it("answers from a sync handler as well as an async one", async () => {
    const w = start();
    await ready(w);
    await expect(h.hub.request(TEST_ID, { op: "sync" })).resolves.toBe("switched");
    await expect(h.hub.request(TEST_ID, [1, 2])).resolves.toEqual({ sync: [1, 2] });
  });

  it("carries messages both ways", async () => {
    const w = start();
    await ready(w);
    const echoed = new Promise((resolve) => h.hub.once("message", (_id, data) => resolve(data)));
    await h.hub.send(TEST_ID, { hello: "from berth", n: 1 });
    expect(await within(WAIT_MS, "the echoed message", echoed)).toEqual({
      echoed: { hello: "from berth", n: 1 },
    });
    const sent = new Promise((resolve) => h.hub.once("message", (_id, data) => resolve(data)));
    await expect(h.hub.request(TEST_ID, { op: "send", data: "from the workload" })).resolves.toBe(true);
    expect(await within(WAIT_MS, "the workload's message", sent)).toBe("from the workload");
  });

  it("turns a handler's exception into WORKLOAD_ERROR with its message and code, never its traceback", async () => {
    const w = start();
    await ready(w);
    const coded = await h.hub
      .request(TEST_ID, { op: "raise", message: "unknown city Atlantis", code: "E_CITY" })
      .catch((e: unknown) => e);
    expect(coded).toMatchObject({
      code: "WORKLOAD_ERROR",
      details: { message: "unknown city Atlantis", code: "E_CITY" },
    });
    const plain = await h.hub.request(TEST_ID, { op: "key" }).catch((e: unknown) => e);
    expect(plain).toMatchObject({ code: "WORKLOAD_ERROR", details: { message: "'missing'" } });
    expect(JSON.stringify(plain)).not.toMatch(/Traceback|\.py/);
    expect((plain as { details: object }).details).not.toHaveProperty("code");
    // The connection goes on.
    await expect(h.hub.request(TEST_ID, { op: "echo", data: 1 })).resolves.toEqual({ echo: 1 });
  });

  it("puts the traceback in the error response only when BERTH_WORKLOAD_DEBUG=1 asks for it", async () => {
    const w = start("async_workload.py", { BERTH_WORKLOAD_DEBUG: "1" });
    await ready(w);
    await expect(h.hub.request(TEST_ID, { op: "key" })).rejects.toMatchObject({
      details: { message: expect.stringMatching(/^'missing'\nTraceback[\s\S]*KeyError/) },
    });
  });

  it("respects the frame limit: an answer or a message too large, or not JSON, becomes an error", async () => {
    const w = start();
    await ready(w);
    await expect(h.hub.request(TEST_ID, { op: "big", size: FRAME_LIMIT })).rejects.toMatchObject({
      code: "WORKLOAD_ERROR",
      details: { code: "FRAME_TOO_LARGE" },
    });
    await expect(h.hub.request(TEST_ID, { op: "big", size: FRAME_LIMIT - 100 })).resolves.toHaveLength(
      FRAME_LIMIT - 100,
    );
    await expect(h.hub.request(TEST_ID, { op: "unserializable" })).rejects.toMatchObject({
      details: { code: "UNSERIALIZABLE" },
    });
    await expect(h.hub.request(TEST_ID, { op: "send", size: FRAME_LIMIT })).resolves.toEqual({
      refused: "FRAME_TOO_LARGE",
    });
    expect(h.hub.status(TEST_ID)).toMatchObject({ connected: true, badFrames: 0 });
  });

  it("answers berth's pings and measures its own", async () => {
    const w = start();
    await ready(w);
    expect(await h.hub.ping(TEST_ID)).toBeGreaterThan(0);
    const rtt = await h.hub.request(TEST_ID, { op: "ping" });
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(5);
  });

  it("reconnects with back-off when berth closes the channel, and answers again without exiting", async () => {
    const w = start();
    await ready(w);
    await h.hub.close(TEST_ID);
    await within(WAIT_MS, "the disconnect", w.line(/^disconnect DISCONNECTED$/));
    // While the socket is gone, the attempts fail (ENOENT) and the waits between them grow.
    await eventually(WAIT_MS, "three failed attempts", () => countRetries(w) >= 3);
    const waits = retryDelays(w);
    expect(waits[2]).toBeGreaterThanOrEqual(0.1); // the third wait: at least half of 4 × 50 ms
    await h.hub.open(TEST_ID, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    await within(WAIT_MS, "the second welcome", h.hub.waitForHello(TEST_ID));
    await eventually(WAIT_MS, "the second welcome line", () => w.count(/^welcome /) === 2);
    await expect(h.hub.request(TEST_ID, { op: "echo", data: "again" })).resolves.toEqual({ echo: "again" });
    expect(w.running).toBe(true);
  });

  it("waits, with back-off, for a socket that is not there yet", async () => {
    await h.hub.close(TEST_ID);
    const w = start();
    await eventually(WAIT_MS, "two failed attempts", () => countRetries(w) >= 2);
    await h.hub.open(TEST_ID, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    await ready(w);
    await expect(h.hub.request(TEST_ID, { op: "echo", data: "late" })).resolves.toEqual({ echo: "late" });
  });

  it("survives a berth restart: a new hub on the same socket path", async () => {
    const w = start();
    await ready(w);
    await h.hub.closeAll();
    await within(WAIT_MS, "the disconnect", w.line(/^disconnect /));
    const restarted = new SocketCommunicationHandler({
      runDir: h.runDir,
      maxFrameBytes: FRAME_LIMIT,
      maxRequestTimeoutMs: 30_000,
      log: pino({ level: "silent" }),
    });
    try {
      await restarted.open(TEST_ID, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
      await within(WAIT_MS, "the welcome from the new berth", restarted.waitForHello(TEST_ID));
      await expect(restarted.request(TEST_ID, { op: "echo", data: "back" })).resolves.toEqual({
        echo: "back",
      });
      expect(w.running).toBe(true);
    } finally {
      await restarted.closeAll();
    }
  });

  it("stops for good, without reconnecting, when another connection replaces it", async () => {
    const w = start();
    await ready(w);
    const intruder = await RawWorkload.hello(h.path);
    try {
      expect(await within(WAIT_MS, "the workload's exit", w.exited)).toBe(3);
      expect(w.lines).toContain("closed REPLACED");
      expect(w.stderr).toMatch(/REPLACED/);
      intruder.serve(() => "intruder");
      await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("intruder");
    } finally {
      await intruder.destroy();
    }
  });

  it("keeps answering berth's heartbeat while a blocking handler sleeps in its thread", async () => {
    // Pings every 50 ms, dead after 3 silent intervals: a handler blocking the reader would cost the connection.
    const quick = await openHarness({
      maxFrameBytes: FRAME_LIMIT,
      heartbeatIntervalMs: 50,
      heartbeatMisses: 3,
    });
    const w = new PythonWorkload("blocking_workload.py", quick.path, FAST_BACKOFF);
    const dropped: string[] = [];
    quick.hub.on("disconnected", (_id, reason) => dropped.push(reason));
    try {
      await within(WAIT_MS, `the workload's hello (stderr: ${w.stderr})`, quick.hub.waitForHello(TEST_ID));
      await expect(quick.hub.request(TEST_ID, { op: "sleep", n: 1, ms: 600 })).resolves.toMatchObject({
        n: 1,
      });
      expect(dropped).toEqual([]);
      expect(quick.hub.status(TEST_ID)).toMatchObject({ connected: true, rttMs: expect.any(Number) });
    } finally {
      await w.stop();
      await quick.cleanup();
    }
  });

  it("serves sync handlers in threads with the blocking run(), and stops cleanly on SIGTERM", async () => {
    const w = start("blocking_workload.py");
    await within(WAIT_MS, `the blocking workload's hello (stderr: ${w.stderr})`, h.hub.waitForHello(TEST_ID));
    // 20 handlers that each block their thread for 200 ms: one at a time they take 4 s at the least, however
    // fast the machine; in threads (a handful at once) about 1 s, and less than 4 s however loaded it is.
    const began = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) => h.hub.request(TEST_ID, { op: "sleep", n, ms: 200 })),
    );
    expect(performance.now() - began).toBeLessThan(3_600);
    expect(answers.map((a) => (a as { n: number }).n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(await h.hub.ping(TEST_ID)).toBeGreaterThan(0);
    await expect(
      h.hub.request(TEST_ID, { op: "raise", message: "nope", code: "E_NO" }),
    ).rejects.toMatchObject({
      details: { message: "nope", code: "E_NO" },
    });
    await h.hub.send(TEST_ID, { note: 1 });
    await within(WAIT_MS, "the message", w.line(/^message \{'note': 1\}$/));
    w.signal("SIGTERM");
    expect(await within(WAIT_MS, "the exit after SIGTERM", w.exited)).toBe(0);
    expect(w.lines).toContain("stopped");
  });
});

/** The waits the SDK logged before each reconnect attempt, in seconds. */
function retryDelays(w: PythonWorkload): number[] {
  return [...w.stderr.matchAll(/connecting to berth again in ([\d.]+) s/g)].map((m) => Number(m[1]));
}

function countRetries(w: PythonWorkload): number {
  return retryDelays(w).length;
}
