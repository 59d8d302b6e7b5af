import { describe, expect, it } from "vitest";
import { LogByteCounter } from "./log-byte-counter.ts";

const MiB = 1024 * 1024;

describe("LogByteCounter", () => {
  it("counts plain growth of the same file", () => {
    const counter = new LogByteCounter(10 * MiB);
    expect(counter.count(3 * MiB, 7)).toBe(0);
    expect(counter.count(5 * MiB, 7)).toBe(2 * MiB);
  });

  it("takes a new inode for a rotation even when the new file is larger than the old one", () => {
    const counter = new LogByteCounter(10 * MiB);
    counter.count(4 * MiB, 1);
    // 5 s at 2.4 MiB/s: 6 MiB to the rotation, 6 MiB into the new file.
    expect(counter.count(6 * MiB, 2)).toBe(12 * MiB);
  });

  it("takes a file that shrank for a rotation when it has no inode", () => {
    const counter = new LogByteCounter(10 * MiB);
    counter.count(6 * MiB);
    expect(counter.count(2 * MiB)).toBe(6 * MiB);
  });

  it("counts nothing across a sample without a file", () => {
    const counter = new LogByteCounter(10 * MiB);
    counter.count(1 * MiB, 1);
    counter.count(2 * MiB, 1);
    expect(counter.count(undefined)).toBeUndefined();
    expect(counter.count(9 * MiB, 1)).toBe(1 * MiB);
    expect(counter.count(9.5 * MiB, 1)).toBe(1.5 * MiB);
  });
});
