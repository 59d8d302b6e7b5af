import { describe, expect, it } from "vitest";
import { FrameDecoder } from "./frame-decoder.ts";

function decoder(max: number) {
  const lines: string[] = [];
  const oversize: number[] = [];
  const d = new FrameDecoder(max, { onLine: (l) => lines.push(l), onOversize: (b) => oversize.push(b) });
  return { d, lines, oversize };
}

describe("FrameDecoder", () => {
  it("splits a chunk into lines and skips empty ones", () => {
    const { d, lines } = decoder(100);
    d.push(Buffer.from('{"a":1}\n\n{"b":2}\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
  });

  it("joins a line split across chunks, even inside a multi-byte character", () => {
    const { d, lines } = decoder(100);
    const bytes = Buffer.from('"ü✓"\n');
    for (let i = 0; i < bytes.length; i++) d.push(bytes.subarray(i, i + 1));
    expect(lines).toEqual(['"ü✓"']);
    expect(d.bufferedBytes).toBe(0);
  });

  it("accepts a line of exactly the limit and drops one byte more", () => {
    const { d, lines, oversize } = decoder(10);
    d.push(Buffer.from(`${"a".repeat(10)}\n${"b".repeat(11)}\nok\n`));
    expect(lines).toEqual(["a".repeat(10), "ok"]);
    expect(oversize).toEqual([11]);
  });

  it("drops an over-size line that arrives in pieces without ever holding more than the limit", () => {
    const { d, lines, oversize } = decoder(10);
    for (let i = 0; i < 1000; i++) {
      d.push(Buffer.from("xxxx"));
      expect(d.bufferedBytes).toBeLessThanOrEqual(10);
    }
    d.push(Buffer.from("xx\nafter\n"));
    expect(oversize).toEqual([4002]);
    expect(lines).toEqual(["after"]);
  });

  it("drops a split line that grows past the limit in its last piece", () => {
    const { d, lines, oversize } = decoder(10);
    d.push(Buffer.from("123456"));
    d.push(Buffer.from("7890ab\nnext\n"));
    expect(oversize).toEqual([12]);
    expect(lines).toEqual(["next"]);
  });

  it("forgets an unfinished line on reset", () => {
    const { d, lines } = decoder(10);
    d.push(Buffer.from("half"));
    d.reset();
    d.push(Buffer.from("whole\n"));
    expect(lines).toEqual(["whole"]);
  });
});
