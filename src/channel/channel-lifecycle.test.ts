import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/helpers/deadline.ts";
import { SocketCommunicationHandler } from "./socket-communication-handler.ts";
import { socketPathFor } from "./socket-path.ts";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { RawWorkload } from "./testing/raw-workload.ts";

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("opening and closing a channel", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function harness(options?: Parameters<typeof openHarness>[0]): Promise<ChannelHarness> {
    const h = await openHarness(options);
    cleanups.push(() => h.cleanup());
    return h;
  }

  async function workload(path: string): Promise<RawWorkload> {
    const w = await RawWorkload.hello(path);
    cleanups.push(() => w.destroy());
    return w;
  }

  it("gives the socket mode 0600 and the workload's uid and gid, in a root-owned 0755 directory", async () => {
    const runDir = await mkdtemp(join(tmpdir(), "berth-ch-"));
    cleanups.push(() => rm(runDir, { recursive: true, force: true }));
    const hub = new SocketCommunicationHandler({
      runDir,
      maxFrameBytes: 1024,
      maxRequestTimeoutMs: 1000,
      log: pino({ level: "silent" }),
    });
    cleanups.push(() => hub.closeAll());
    await hub.open(TEST_ID, { uid: 201234, gid: 201235 });
    const path = socketPathFor(runDir, TEST_ID);
    const sock = await lstat(path);
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o777).toBe(0o600);
    expect([sock.uid, sock.gid]).toEqual([201234, 201235]);
    const dir = await stat(dirname(path));
    expect(dir.mode & 0o777).toBe(0o755);
    expect(dir.uid).toBe(process.getuid?.());
  });

  it("replaces a stale socket file left by an earlier run", async () => {
    const runDir = await mkdtemp(join(tmpdir(), "berth-ch-"));
    cleanups.push(() => rm(runDir, { recursive: true, force: true }));
    const path = socketPathFor(runDir, TEST_ID);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, "stale");
    const hub = new SocketCommunicationHandler({
      runDir,
      maxFrameBytes: 1024,
      maxRequestTimeoutMs: 1000,
      log: pino({ level: "silent" }),
    });
    cleanups.push(() => hub.closeAll());
    await hub.open(TEST_ID, { uid: 0, gid: 0 });
    expect((await lstat(path)).isSocket()).toBe(true);
    await workload(path);
    expect(hub.status(TEST_ID).connected).toBe(true);
  });

  it("is idempotent for an open id", async () => {
    const h = await harness();
    const w = await workload(h.path);
    await h.hub.open(TEST_ID, { uid: 0, gid: 0 });
    expect(h.hub.status(TEST_ID).connected).toBe(true);
    w.serve(() => "same connection");
    await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("same connection");
  });

  it("refuses an id that is not a plain file name, and a path too long for a Unix socket", async () => {
    const h = await harness();
    await expect(h.hub.open("../escape", { uid: 0, gid: 0 })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    const deep = new SocketCommunicationHandler({
      runDir: join(h.runDir, "d".repeat(80)),
      maxFrameBytes: 1024,
      maxRequestTimeoutMs: 1000,
      log: pino({ level: "silent" }),
    });
    await expect(deep.open(TEST_ID, { uid: 0, gid: 0 })).rejects.toThrow(/BERTH_RUN_DIR/);
    await deep.closeAll();
  });

  it("closes idempotently: calls fail, the socket file goes, the directory stays, no timer is left", async () => {
    const before = timers();
    const h = await harness({ heartbeatIntervalMs: 1000, helloTimeoutMs: 5000 });
    const w = await workload(h.path);
    await RawWorkload.connect(h.path).then((half) => cleanups.push(() => half.destroy())); // still handshaking
    const pending = h.hub.request(TEST_ID, 1).catch((e: unknown) => e);
    const disconnected = new Promise((resolve) =>
      h.hub.once("disconnected", (_id, reason) => resolve(reason)),
    );
    expect(timers()).toBeGreaterThan(before);
    await Promise.all([h.hub.close(TEST_ID), h.hub.close(TEST_ID)]);
    await h.hub.close(TEST_ID);
    expect(await pending).toMatchObject({
      code: "CHANNEL_DISCONNECTED",
      details: { reason: "channel_closed" },
    });
    expect(await disconnected).toBe("channel_closed");
    await w.closed;
    expect(existsSync(h.path)).toBe(false);
    expect(existsSync(dirname(h.path))).toBe(true);
    expect(h.hub.status(TEST_ID)).toEqual({ connected: false });
    // At most as many as before: a timer of an earlier test may have run out meanwhile.
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it("opens again after a close, on a fresh socket", async () => {
    const h = await harness();
    await workload(h.path);
    const closing = h.hub.close(TEST_ID);
    const reopened = h.hub.open(TEST_ID, { uid: 0, gid: 0 });
    await Promise.all([closing, reopened]);
    expect(existsSync(h.path)).toBe(true);
    const w = await workload(h.path);
    w.serve(() => "again");
    await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("again");
  });

  it("closes every channel on closeAll and refuses to open after it", async () => {
    const h = await harness();
    await h.hub.open("C0000000000B", { uid: 0, gid: 0 });
    await workload(h.path);
    await Promise.all([h.hub.closeAll(), h.hub.closeAll()]);
    expect(existsSync(h.path)).toBe(false);
    expect(existsSync(socketPathFor(h.runDir, "C0000000000B"))).toBe(false);
    await expect(h.hub.open("C0000000000C", { uid: 0, gid: 0 })).rejects.toMatchObject({
      code: "SHUTTING_DOWN",
    });
  });

  it("fails to open when the socket path cannot be listened on, and leaves nothing behind", async () => {
    const h = await harness();
    const path = socketPathFor(h.runDir, "C0000000000D");
    await mkdir(path, { recursive: true }); // a directory where the socket should be
    await expect(h.hub.open("C0000000000D", { uid: 0, gid: 0 })).rejects.toThrow();
    expect(h.hub.status("C0000000000D")).toEqual({ connected: false });
  });
});

describe("heartbeat", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("pings a connected workload and reports the round trip", async () => {
    const h = await openHarness({ heartbeatIntervalMs: 20 });
    cleanups.push(() => h.cleanup());
    const w = await RawWorkload.hello(h.path);
    cleanups.push(() => w.destroy());
    // Every ping answered at once. On a loaded machine a pong can arrive after the next ping was due
    // (20 ms), answering a ping berth no longer waits for: the round trip is read once one came in time.
    await eventually(
      10_000,
      "a round trip measured",
      async () => {
        let ping = await w.next("ping");
        // The freshest ping is the one berth waits for: those queued meanwhile are answered no more.
        while (w.frames.some((f) => f.type === "ping")) ping = await w.next("ping");
        w.send({ type: "pong", id: ping.id });
        return (h.hub.status(TEST_ID).rttMs ?? 0) > 0;
      },
      1,
    );
    expect(h.hub.status(TEST_ID).rttMs).toBeGreaterThan(0);
  });

  it("disconnects a workload that stops answering, failing its calls", async () => {
    const h = await openHarness({ heartbeatIntervalMs: 30, heartbeatMisses: 3 });
    cleanups.push(() => h.cleanup());
    // Read before the hello: the heartbeat starts when berth reads it, in a later turn of the event loop
    // whose clock is past this reading, so three silent 30 ms intervals end at least 90 ms (less the
    // loop clock's millisecond rounding) after it, however slow the machine.
    const started = performance.now();
    const w = await RawWorkload.hello(h.path);
    cleanups.push(() => w.destroy());
    const pending = h.hub.request(TEST_ID, 1).catch((e: unknown) => e);
    const reason = await new Promise((resolve) => h.hub.once("disconnected", (_id, r) => resolve(r)));
    expect(reason).toBe("heartbeat_timeout");
    expect(performance.now() - started).toBeGreaterThanOrEqual(88);
    expect(await pending).toMatchObject({
      code: "CHANNEL_DISCONNECTED",
      details: { reason: "heartbeat_timeout" },
    });
    await w.closed;
  });

  it("keeps a workload that answers its pings", async () => {
    // Short intervals to run fast, enough misses allowed that a loaded machine's late timer is no death sentence.
    const h = await openHarness({ heartbeatIntervalMs: 20, heartbeatMisses: 4 });
    cleanups.push(() => h.cleanup());
    const w = await RawWorkload.hello(h.path);
    cleanups.push(() => w.destroy());
    for (let i = 0; i < 10; i++) {
      const ping = await w.next("ping");
      w.send({ type: "pong", id: ping.id });
    }
    expect(h.hub.status(TEST_ID).connected).toBe(true);
  });
});
