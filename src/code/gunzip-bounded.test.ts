import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { gunzipBounded } from "./gunzip-bounded.ts";

/** Some bytes that compress, different at every offset, so a wrong chunk boundary would show. */
const DATA = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));

/** The same stream with its trailer's ISIZE (inflated size modulo 2^32) overwritten. */
function withIsize(gz: Buffer, isize: number): Buffer {
  const copy = Buffer.from(gz);
  copy.writeUInt32LE(isize, copy.length - 4);
  return copy;
}

describe("gunzipBounded", () => {
  it("inflates a stream whose trailer gives its true size", () => {
    expect(gunzipBounded(gzipSync(DATA), 1_000_000).equals(DATA)).toBe(true);
  });

  it("inflates several gzip members, whose last trailer gives only the last member's size", () => {
    const gz = Buffer.concat([gzipSync(DATA.subarray(0, 290_000)), gzipSync(DATA.subarray(290_000))]);
    expect(gunzipBounded(gz, 1_000_000).equals(DATA)).toBe(true);
  });

  // ISIZE is outside the CRC, so a changed one is not noticed before the end; zlib then checks it.
  it.each([
    ["too small", 1],
    ["too large", 0xffff_ffff],
  ])("refuses a trailer whose size is %s, whatever chunk size it suggested", (_, isize) => {
    expect(() => gunzipBounded(withIsize(gzipSync(DATA), isize), 1_000_000)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ reason: "gzip-corrupt" }) }),
    );
  });

  it("refuses output past the limit even when the trailer claims it is small", () => {
    expect(() => gunzipBounded(withIsize(gzipSync(DATA), 100), 200_000)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ reason: "too-large" }) }),
    );
  });
});
