import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Outbound } from "./engine-outbound.ts";
import { CHECK_INTERVAL_MS, type DroppedEvent, type OverBoundReport, StreamGuard } from "./stream-guard.ts";

const KiB = 1024;

/** A connection whose buffered bytes the test sets by hand; `queue` also announces a packet. */
function fakeOutbound() {
  let bytes = 0;
  const listeners = new Set<() => void>();
  const outbound: Outbound = {
    bufferedBytes: () => bytes,
    onPacket: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    terminate: () => {},
    close: () => {},
  };
  return {
    outbound,
    set(n: number) {
      bytes = n;
    },
    queue(n: number) {
      bytes += n;
      for (const l of listeners) l();
    },
    get listening() {
      return listeners.size;
    },
  };
}

function guardOf(limits = { bufferBytes: 100 * KiB, maxBufferBytes: 1000 * KiB, graceMs: 1000 }) {
  const conn = fakeOutbound();
  const notices: DroppedEvent[] = [];
  const disconnects: OverBoundReport[] = [];
  const guard = new StreamGuard(conn.outbound, limits, {
    notify: (e) => notices.push(e),
    disconnect: (r) => disconnects.push(r),
  });
  return { conn, guard, notices, disconnects };
}

describe("StreamGuard", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets telemetry through while the connection keeps up", () => {
    const { conn, guard, notices } = guardOf();
    conn.set(100 * KiB);
    expect(guard.admit("C1", "messages")).toBe(true);
    expect(guard.behind).toBe(false);
    vi.advanceTimersByTime(10 * CHECK_INTERVAL_MS);
    expect(notices).toEqual([]);
  });

  it("drops and counts telemetry per container and stream while the connection is over its bound", () => {
    const { conn, guard, notices } = guardOf();
    conn.set(100 * KiB + 1);
    expect(guard.admit("C1", "messages")).toBe(false);
    expect(guard.admit("C1", "messages")).toBe(false);
    expect(guard.admit("C2", "logs")).toBe(false);
    expect(guard.admitAll(["C1", "C2"], "stats")).toBe(false);
    expect(guard.behind).toBe(true);
    vi.advanceTimersByTime(10 * CHECK_INTERVAL_MS);
    expect(notices).toEqual([]);
  });

  it("keeps dropping until the connection is down to half its bound, then says what it missed, in order", () => {
    const { conn, guard, notices } = guardOf();
    conn.set(200 * KiB);
    guard.admit("C1", "messages");
    guard.admit("C2", "logs");
    guard.admit("C1", "messages");
    conn.set(60 * KiB);
    // Under the bound, but not yet under half of it: still behind.
    expect(guard.admit("C1", "messages")).toBe(false);
    vi.advanceTimersByTime(CHECK_INTERVAL_MS);
    expect(notices).toEqual([]);
    conn.set(50 * KiB);
    vi.advanceTimersByTime(CHECK_INTERVAL_MS);
    expect(notices).toEqual([
      { id: "C1", stream: "messages", count: 3 },
      { id: "C2", stream: "logs", count: 1 },
    ]);
    expect(guard.behind).toBe(false);
    expect(guard.admit("C1", "messages")).toBe(true);
  });

  it("falls behind on any packet that takes it over its bound, acknowledgements included", () => {
    const { conn, guard } = guardOf();
    conn.queue(150 * KiB);
    expect(guard.behind).toBe(true);
    expect(guard.admit("C1", "stats")).toBe(false);
  });

  it("disconnects a connection that stays over the higher bound for the grace period", () => {
    const { conn, disconnects } = guardOf();
    conn.queue(1500 * KiB);
    vi.advanceTimersByTime(900);
    expect(disconnects).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(disconnects).toHaveLength(1);
    expect(disconnects[0]).toMatchObject({
      cause: "grace",
      bufferedBytes: 1500 * KiB,
      maxBufferBytes: 1000 * KiB,
    });
    expect(disconnects[0]!.overMs).toBeGreaterThanOrEqual(1000);
    vi.advanceTimersByTime(5000);
    expect(disconnects).toHaveLength(1);
    expect(conn.listening).toBe(0);
  });

  it("starts the grace period again when the connection dipped under the higher bound meanwhile", () => {
    const { conn, disconnects } = guardOf();
    conn.queue(1500 * KiB);
    vi.advanceTimersByTime(800);
    conn.set(900 * KiB);
    vi.advanceTimersByTime(CHECK_INTERVAL_MS);
    conn.set(1500 * KiB);
    vi.advanceTimersByTime(800);
    expect(disconnects).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(disconnects).toHaveLength(1);
  });

  it("disconnects at once a connection that reaches twice the higher bound", () => {
    const { conn, disconnects } = guardOf();
    conn.queue(2000 * KiB);
    expect(disconnects).toEqual([
      { cause: "ceiling", bufferedBytes: 2000 * KiB, maxBufferBytes: 1000 * KiB, overMs: 0 },
    ]);
  });

  it("sends nothing and stops its timer once closed", () => {
    const { conn, guard, notices } = guardOf();
    conn.set(200 * KiB);
    guard.admit("C1", "messages");
    guard.close();
    guard.close();
    conn.set(0);
    vi.advanceTimersByTime(10 * CHECK_INTERVAL_MS);
    expect(notices).toEqual([]);
    expect(guard.admit("C1", "messages")).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
