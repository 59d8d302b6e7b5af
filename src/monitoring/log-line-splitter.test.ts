import { describe, expect, it } from "vitest";
import type { LogLine } from "#protocol";
import { TRUNCATION_MARKER } from "../logging/sanitize-log-line.ts";
import { LogLineSplitter } from "./log-line-splitter.ts";

const T1 = "2026-11-25T18:44:14.247684167Z";
const T2 = "2026-11-25T18:44:15.000000001Z";
const ms = (stamp: string) => Date.parse(stamp.replace(/(\.\d{3})\d*/, "$1"));

/** One engine frame: stream byte, three zeros, big-endian length, payload. */
function frame(stream: 1 | 2, payload: string | Buffer): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function splitAll(input: Buffer, chunkSizes: number[] = [input.length]): LogLine[] {
  const splitter = new LogLineSplitter({ now: () => 42 });
  const lines: LogLine[] = [];
  let pos = 0;
  for (let i = 0; pos < input.length; i++) {
    const size = chunkSizes[i % chunkSizes.length] ?? input.length;
    lines.push(...splitter.push(input.subarray(pos, pos + size)));
    pos += size;
  }
  lines.push(...splitter.end());
  return lines;
}

describe("LogLineSplitter", () => {
  const stream = Buffer.concat([
    frame(1, `${T1} listening on :3000\n`),
    frame(2, `${T2} warning: low disk\n`),
    frame(1, `${T2} \n`),
  ]);
  const expected: LogLine[] = [
    { stream: "stdout", ts: ms(T1), text: "listening on :3000" },
    { stream: "stderr", ts: ms(T2), text: "warning: low disk" },
    { stream: "stdout", ts: ms(T2), text: "" },
  ];

  it("reads stream, timestamp and text of each frame", () => {
    expect(splitAll(stream)).toEqual(expected);
  });

  it("gives the same lines however the frames are split across chunks", () => {
    for (const sizes of [[1], [3], [7], [8], [9], [13, 2], [31], [32, 1]])
      expect(splitAll(stream, sizes), `chunks of ${sizes}`).toEqual(expected);
  });

  it("joins a long line the engine sent in pieces, dropping the repeated timestamps", () => {
    // Docker 20.10 splits a message at 16 KiB; every piece carries the first piece's stamp.
    const input = Buffer.concat([
      frame(1, `${T1} ${"a".repeat(10)}`),
      frame(2, `${T2} interleaved\n`),
      frame(1, `${T1} ${"b".repeat(10)}`),
      frame(1, `${T1} ${"c".repeat(5)}\n`),
    ]);
    for (const sizes of [[input.length], [1], [5]])
      expect(splitAll(input, sizes)).toEqual([
        { stream: "stderr", ts: ms(T2), text: "interleaved" },
        { stream: "stdout", ts: ms(T1), text: `${"a".repeat(10)}${"b".repeat(10)}ccccc` },
      ]);
  });

  it("decodes a UTF-8 character split between two frames", () => {
    const euro = Buffer.from("€");
    const input = Buffer.concat([
      frame(1, Buffer.concat([Buffer.from(`${T1} price: `), euro.subarray(0, 1)])),
      frame(1, Buffer.concat([Buffer.from(`${T1} `), euro.subarray(1), Buffer.from("5\n")])),
    ]);
    expect(splitAll(input)).toEqual([{ stream: "stdout", ts: ms(T1), text: "price: €5" }]);
  });

  it("gives back a last line without a newline when the stream ends", () => {
    expect(splitAll(frame(1, `${T1} no newline`))).toEqual([
      { stream: "stdout", ts: ms(T1), text: "no newline" },
    ]);
  });

  it("sanitises the text", () => {
    expect(splitAll(frame(2, `${T1} \x1b[31mred\x1b[0m\x07\r\n`))).toEqual([
      { stream: "stderr", ts: ms(T1), text: "red\\x07" },
    ]);
  });

  it("keeps a line without a stamp, stamped with the stream's last time or the clock", () => {
    expect(splitAll(frame(1, "plain\n"))).toEqual([{ stream: "stdout", ts: 42, text: "plain" }]);
    expect(splitAll(Buffer.concat([frame(1, `${T1} one\ntwo\n`)]))).toEqual([
      { stream: "stdout", ts: ms(T1), text: "one" },
      { stream: "stdout", ts: ms(T1), text: "two" },
    ]);
  });

  it("bounds the memory a line without end can take, and marks the cut", () => {
    const splitter = new LogLineSplitter({ maxLineLength: 100 });
    const lines: LogLine[] = [];
    lines.push(...splitter.push(frame(1, `${T1} ${"x".repeat(300)}`)));
    for (let i = 0; i < 1000; i++) lines.push(...splitter.push(frame(1, `${T1} ${"y".repeat(1000)}`)));
    lines.push(...splitter.push(frame(1, `${T1} end\n`)), ...splitter.push(frame(1, `${T2} next\n`)));
    expect(lines).toHaveLength(2);
    expect(lines[0]?.text).toBe(
      `${"x".repeat(300)}${"y".repeat(100)}`.slice(0, 100 - TRUNCATION_MARKER.length) + TRUNCATION_MARKER,
    );
    expect(lines[1]).toEqual({ stream: "stdout", ts: ms(T2), text: "next" });
  });

  it("skips empty frames", () => {
    expect(splitAll(Buffer.concat([frame(1, ""), frame(1, `${T1} a\n`)]))).toEqual([
      { stream: "stdout", ts: ms(T1), text: "a" },
    ]);
  });
});
