import type { LogLine } from "@berth/client";
import { describe, expect, it } from "vitest";
import { LineBuffer } from "../src/container/line-buffer.ts";

const line = (text: string, ts = 1): LogLine => ({ stream: "stdout", ts, text });
const texts = (lines: readonly { text: string }[]) => lines.map((l) => l.text);

describe("the output's line buffer", () => {
  it("shows lines in the order they came, each with its own key", () => {
    const buffer = new LineBuffer();
    buffer.push(line("a"));
    buffer.push(line("a"));
    expect(texts(buffer.lines)).toEqual(["a", "a"]);
    expect(new Set(buffer.lines.map((l) => l.seq)).size).toBe(2);
  });

  it("keeps only the newest lines, and counts those it let go", () => {
    const buffer = new LineBuffer(3);
    for (const t of ["1", "2", "3", "4", "5"]) buffer.push(line(t));
    expect(texts(buffer.lines)).toEqual(["3", "4", "5"]);
    expect(buffer.dropped).toBe(2);
  });

  it("holds and counts the lines that come while paused, and shows them on resume", () => {
    const buffer = new LineBuffer();
    buffer.push(line("before"));
    buffer.pause();
    buffer.push(line("during 1"));
    buffer.push(line("during 2"));
    expect(texts(buffer.lines)).toEqual(["before"]);
    expect(buffer.held).toBe(2);

    buffer.resume();
    expect(buffer.paused).toBe(false);
    expect(buffer.held).toBe(0);
    expect(texts(buffer.lines)).toEqual(["before", "during 1", "during 2"]);
  });

  it("counts every line that came while paused, but holds no more than its bound", () => {
    const buffer = new LineBuffer(2);
    buffer.push(line("shown"));
    buffer.pause();
    for (const t of ["a", "b", "c", "d"]) buffer.push(line(t));
    expect(buffer.held).toBe(4);
    expect(texts(buffer.lines)).toEqual(["shown"]);
    buffer.resume();
    expect(texts(buffer.lines)).toEqual(["c", "d"]);
    expect(buffer.dropped).toBe(3);
  });

  it("finds the lines shown that contain the search, in any case, and not the held ones", () => {
    const buffer = new LineBuffer();
    for (const t of ["GET /health 200", "error: disk full", "ERROR again", "ok"]) buffer.push(line(t));
    buffer.pause();
    buffer.push(line("error while paused"));
    expect(texts(buffer.matching("error"))).toEqual(["error: disk full", "ERROR again"]);
    expect(buffer.matching("")).toHaveLength(4);
    expect(buffer.matching("nothing like it")).toEqual([]);
  });

  it("forgets everything on clear, and refuses a bound that holds nothing", () => {
    const buffer = new LineBuffer(1);
    buffer.push(line("a"));
    buffer.push(line("b"));
    buffer.clear();
    expect(buffer.lines).toEqual([]);
    expect(buffer.dropped).toBe(0);
    expect(() => new LineBuffer(0)).toThrow(RangeError);
  });
});
