import { describe, expect, it } from "vitest";
import { InboundBudget } from "./inbound-budget.ts";
import { type PacerTimers, ReadPacer } from "./read-pacer.ts";

/** A socket that records pauses and resumes, and timers run by hand. */
function fakes() {
  const calls: string[] = [];
  const socket = { pause: () => calls.push("pause"), resume: () => calls.push("resume") };
  let seq = 0;
  const timeouts = new Map<number, { fn: () => void; ms: number }>();
  const immediates = new Map<number, () => void>();
  const timers: PacerTimers = {
    setTimeout: (fn, ms) => {
      timeouts.set(++seq, { fn, ms });
      return seq;
    },
    clearTimeout: (h) => timeouts.delete(h as number),
    setImmediate: (fn) => {
      immediates.set(++seq, fn);
      return seq;
    },
    clearImmediate: (h) => immediates.delete(h as number),
  };
  const runImmediates = () => {
    const due = [...immediates.values()];
    immediates.clear();
    for (const fn of due) fn();
  };
  const runTimeouts = () => {
    const due = [...timeouts.values()];
    timeouts.clear();
    for (const t of due) t.fn();
  };
  return { calls, socket, timers, timeouts, immediates, runImmediates, runTimeouts };
}

describe("ReadPacer", () => {
  it("reads a slice, then pauses the socket until the next turn", () => {
    const f = fakes();
    const pacer = new ReadPacer({ socket: f.socket, sliceBytes: 64 * 1024, timers: f.timers });
    pacer.afterChunk(40_000);
    expect(f.calls).toEqual([]);
    pacer.afterChunk(30_000);
    expect(f.calls).toEqual(["pause"]);
    f.runImmediates();
    expect(f.calls).toEqual(["pause", "resume"]);
    // The count starts again from the yield.
    pacer.afterChunk(40_000);
    expect(f.calls).toEqual(["pause", "resume"]);
  });

  it("holds a socket in debt until its budget has refilled, with one timer", () => {
    const f = fakes();
    let now = 0;
    const budget = new InboundBudget({ framesPerSecond: 10, bytesPerSecond: 0 }, () => now);
    const holds: Array<[number, boolean]> = [];
    const pacer = new ReadPacer({
      socket: f.socket,
      sliceBytes: 1 << 30,
      budget,
      timers: f.timers,
      onHold: (ms, started) => holds.push([ms, started]),
    });
    for (let i = 0; i < 15; i++) budget.spend(1);
    pacer.afterChunk(15);
    expect(f.calls).toEqual(["pause"]);
    expect([...f.timeouts.values()].map((t) => t.ms)).toEqual([500]);
    expect(pacer.held).toBe(true);
    // A timer that fires early by the budget's clock holds on for the rest, as the same hold.
    now += 400;
    f.runTimeouts();
    expect(f.calls).toEqual(["pause", "pause"]);
    expect([...f.timeouts.values()].map((t) => t.ms)).toEqual([100]);
    now += 100;
    f.runTimeouts();
    expect(f.calls).toEqual(["pause", "pause", "resume"]);
    expect(pacer.held).toBe(false);
    expect(holds).toEqual([
      [500, true],
      [100, false],
    ]);
  });

  it("does not resume a held socket at the end of a slice's turn", () => {
    const f = fakes();
    let now = 0;
    const budget = new InboundBudget({ framesPerSecond: 1, bytesPerSecond: 0 }, () => now);
    const pacer = new ReadPacer({ socket: f.socket, sliceBytes: 10, budget, timers: f.timers });
    pacer.afterChunk(10); // a slice, in budget: yields
    budget.spend(1);
    budget.spend(1);
    now += 0;
    f.runImmediates(); // resumes
    pacer.afterChunk(10); // in debt: held, no yield
    expect(f.calls).toEqual(["pause", "resume", "pause"]);
    expect(f.immediates.size).toBe(0);
    now += 1000;
    f.runTimeouts();
    expect(f.calls).toEqual(["pause", "resume", "pause", "resume"]);
  });

  it("clears its timers on close and lets a paused socket read on (its end is seen)", () => {
    const f = fakes();
    const budget = new InboundBudget({ framesPerSecond: 1, bytesPerSecond: 0 }, () => 0);
    const pacer = new ReadPacer({ socket: f.socket, sliceBytes: 1, budget, timers: f.timers });
    budget.spend(1);
    budget.spend(1);
    pacer.afterChunk(1);
    expect(f.timeouts.size).toBe(1);
    pacer.close();
    pacer.close();
    expect(f.timeouts.size).toBe(0);
    expect(f.immediates.size).toBe(0);
    expect(f.calls).toEqual(["pause", "resume"]);
    pacer.afterChunk(100);
    expect(f.calls).toEqual(["pause", "resume"]);
  });

  it("never holds without a budget", () => {
    const f = fakes();
    const pacer = new ReadPacer({ socket: f.socket, sliceBytes: 1 << 30, timers: f.timers });
    for (let i = 0; i < 1000; i++) pacer.afterChunk(100);
    expect(f.calls).toEqual([]);
  });
});
