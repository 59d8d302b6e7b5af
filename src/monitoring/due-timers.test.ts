import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DueTimers } from "./due-timers.ts";

describe("DueTimers", () => {
  let timers: DueTimers<string>;
  let fired: string[];

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    timers = new DueTimers(() => Date.now());
    fired = [];
  });
  afterEach(() => {
    timers.clearAll();
    vi.useRealTimers();
  });

  const set = (key: string, dueMs: number) => timers.set(key, dueMs, () => fired.push(key));

  it("runs every callback due at the same time from one timer, in the order they were set", async () => {
    for (const key of ["a", "b", "c"]) set(key, 1_001_000);
    set("later", 1_002_000);
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(["a", "b", "c"]);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual(["a", "b", "c", "later"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("replaces a key's timer when it is set again, and drops a group's timer with its last key", async () => {
    set("a", 1_001_000);
    set("b", 1_001_000);
    set("a", 1_003_000);
    timers.clear("b");
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual(["a"]);
  });

  it("runs a callback due in the past at once, and lets a callback set its key again", async () => {
    timers.set("again", 999_000, () => {
      fired.push("again");
      if (fired.length < 3) timers.set("again", Date.now() + 500, () => fired.push("again"));
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toEqual(["again"]);
    await vi.advanceTimersByTimeAsync(500);
    expect(fired).toEqual(["again", "again"]);
  });

  it("lets a callback clear or move a sibling due at the same time", async () => {
    timers.set("a", 1_001_000, () => {
      fired.push("a");
      timers.clear("b");
      set("c", 1_002_000);
    });
    set("b", 1_001_000);
    set("c", 1_001_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual(["a"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual(["a", "c"]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fired).toEqual(["a", "c"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("cancels everything with clearAll, and ignores clearing a key it does not hold", () => {
    set("a", 1_001_000);
    set("b", 1_005_000);
    timers.clearAll();
    expect(vi.getTimerCount()).toBe(0);
    timers.clear("a");
  });
});
