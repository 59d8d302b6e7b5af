import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RepeatedLog } from "./repeated-log.ts";

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { log: pino({ level: "debug" }, destination), lines };
}

describe("RepeatedLog", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("logs the first occurrence in full, then one line per interval with the count", async () => {
    const { log, lines } = capture();
    const repeated = new RepeatedLog(log, { intervalMs: 1000 });
    for (let i = 0; i < 1000; i++)
      repeated.warn("c1:bad", { containerId: "c1" }, { n: i }, "dropped bad frame");
    expect(lines).toMatchObject([{ containerId: "c1", n: 0, msg: "dropped bad frame" }]);
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ containerId: "c1", repeated: 999, msg: "dropped bad frame (repeated)" });
    expect(lines[1]).not.toHaveProperty("n");
    // A flood that goes on: one more line per interval.
    for (let i = 0; i < 50; i++) repeated.warn("c1:bad", { containerId: "c1" }, {}, "dropped bad frame");
    vi.advanceTimersByTime(1000);
    expect(lines.at(-1)).toMatchObject({ repeated: 50 });
    expect(lines).toHaveLength(3);
  });

  it("forgets a key after a quiet interval, so the next occurrence is logged in full", () => {
    const { log, lines } = capture();
    const repeated = new RepeatedLog(log, { intervalMs: 1000 });
    repeated.info("c1:connected", { containerId: "c1" }, {}, "workload connected");
    vi.advanceTimersByTime(1000);
    repeated.info("c1:connected", { containerId: "c1" }, {}, "workload connected");
    expect(lines.map((l) => l.msg)).toEqual(["workload connected", "workload connected"]);
    vi.advanceTimersByTime(5000);
    expect(lines).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0); // nothing left to count: no timer either
  });

  it("keeps keys apart, and counts in one shared line beyond its bound on keys", () => {
    const { log, lines } = capture();
    const repeated = new RepeatedLog(log, { intervalMs: 1000, maxKeys: 3 });
    for (let i = 0; i < 10; i++)
      repeated.warn(`c${i}:bad`, { containerId: `c${i}` }, {}, "dropped bad frame");
    expect(lines.map((l) => l.containerId)).toEqual(["c0", "c1", "c2"]);
    repeated.flush();
    expect(lines.at(-1)).toMatchObject({
      repeated: 7,
      msg: "repeated events of too many sources (repeated)",
    });
  });

  it("writes nothing for a level that is off", () => {
    const { log, lines } = capture();
    log.level = "info";
    const repeated = new RepeatedLog(log, { intervalMs: 1000 });
    for (let i = 0; i < 5; i++) repeated.debug("c1:late", { containerId: "c1" }, {}, "dropped late response");
    repeated.flush();
    expect(lines).toEqual([]);
  });
});
