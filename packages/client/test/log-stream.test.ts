import { describe, expect, it } from "vitest";
import { EventQueue } from "../src/event-queue.ts";
import { LogStream } from "../src/log-stream.ts";
import type { LogLine } from "../src/protocol/index.ts";

const line = (ts: number, text: string): LogLine => ({ stream: "stdout", ts, text });

/** The texts of every line the stream has given so far. */
async function given(queue: EventQueue<LogLine>): Promise<string[]> {
  queue.end();
  const texts: string[] = [];
  for await (const l of queue) texts.push(l.text);
  return texts;
}

describe("LogStream", () => {
  it("gives the tail, then the live lines, each once even where they overlap", async () => {
    const stream = new LogStream(new EventQueue());
    const tail = [line(1, "a"), line(2, "b"), line(3, "c")];
    await stream.sync(async () => {
      // The follow is open: a line written while the tail is read comes both ways.
      stream.onLive(line(3, "c"));
      stream.onLive(line(4, "d"));
      return tail;
    });
    stream.onLive(line(5, "e"));
    expect(await given(stream.queue)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("never gives a line older than the tail it read, pushed by the follow after the tail", async () => {
    const stream = new LogStream(new EventQueue(), 1);
    await stream.sync(async () => {
      stream.onLive(line(42, "c")); // held while the tail is read
      return [line(44, "d")];
    });
    stream.onLive(line(43, "b")); // written while the follow opened, pushed after the tail's answer
    stream.onLive(line(45, "e"));
    expect(await given(stream.queue)).toEqual(["d", "e"]);
  });

  it("gives identical lines of one millisecond in one fetch, every one of them", async () => {
    const stream = new LogStream(new EventQueue(), 4);
    await stream.sync(async () => [line(1, "x"), line(2, "x"), line(2, "x"), line(2, "x"), line(2, "b")]);
    expect(await given(stream.queue)).toEqual(["x", "x", "x", "x", "b"]);
  });

  it("resumes after a drop from its last line without giving a line twice, identical lines included", async () => {
    const stream = new LogStream(new EventQueue());
    await stream.sync(async () => [line(1, "a"), line(2, "same"), line(2, "same")]);
    expect(stream.lastTs).toBe(2);
    // The drop: the catch-up since ts 2 has the two lines given at ts 2, one more identical one, and what came after.
    await stream.sync(async () => [line(2, "same"), line(2, "same"), line(2, "same"), line(3, "missed")]);
    stream.onLive(line(4, "live"));
    expect(await given(stream.queue)).toEqual(["a", "same", "same", "same", "missed", "live"]);
  });

  it("gives a line once when two follows carry it for a moment after the follow was opened again", async () => {
    const stream = new LogStream(new EventQueue());
    await stream.sync(async () => []);
    // Reopened (a restart, a reconnect): berth's old engine follow may still push what the new one does.
    await stream.sync(async () => []);
    stream.onLive(line(7, "x"));
    stream.onLive(line(7, "x"));
    stream.onLive(line(8, "y"));
    stream.onLive(line(8, "y"));
    expect(await given(stream.queue)).toEqual(["x", "y"]);
  });

  it("gives identical live lines of one millisecond, every one, while the follow was never opened again", async () => {
    const stream = new LogStream(new EventQueue());
    await stream.sync(async () => []);
    stream.onLive(line(7, ""));
    stream.onLive(line(7, ""));
    expect(await given(stream.queue)).toEqual(["", ""]);
  });
});
