import { describe, expect, it } from "vitest";
import { SampleRing } from "./sample-ring.ts";

describe("SampleRing", () => {
  it("keeps items oldest first until it is full", () => {
    const ring = new SampleRing<number>(3);
    expect(ring.toArray()).toEqual([]);
    expect(ring.newest).toBeUndefined();
    ring.push(1);
    ring.push(2);
    expect(ring.toArray()).toEqual([1, 2]);
    expect(ring.size).toBe(2);
    expect(ring.newest).toBe(2);
  });

  it("overwrites the oldest item once full, never growing past its capacity", () => {
    const ring = new SampleRing<number>(3);
    for (let n = 1; n <= 10; n++) ring.push(n);
    expect(ring.toArray()).toEqual([8, 9, 10]);
    expect(ring.size).toBe(3);
    expect(ring.newest).toBe(10);
  });

  it("answers a copy, which later pushes do not change", () => {
    const ring = new SampleRing<number>(2);
    ring.push(1);
    const before = ring.toArray();
    ring.push(2);
    ring.push(3);
    expect(before).toEqual([1]);
  });

  it("empties on clear and fills again from the start", () => {
    const ring = new SampleRing<number>(2);
    ring.push(1);
    ring.push(2);
    ring.push(3);
    ring.clear();
    expect(ring.size).toBe(0);
    expect(ring.toArray()).toEqual([]);
    ring.push(4);
    expect(ring.toArray()).toEqual([4]);
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new SampleRing(0)).toThrow(RangeError);
    expect(() => new SampleRing(1.5)).toThrow(RangeError);
  });
});
