import { describe, expect, it } from "vitest";
import { BerthError } from "../src/berth-error.ts";
import { LogFollows, MAX_LOG_TAIL } from "../src/log-follows.ts";
import type { LogLine } from "../src/protocol/index.ts";
import { deferred, FakeCore, settle } from "./fake-core.ts";

const ID = "c1";
const line = (ts: number, text: string): LogLine => ({ stream: "stdout", ts, text });
const status = (from: string, to: string, ts: number) => ({
  id: ID,
  name: "bot",
  from,
  to,
  health: "none",
  reason: "test",
  ts,
});

/** A fake berth whose follows open at once and whose `container:logs` answers with `logs(payload)`. */
function berth(logs: (p: { tail?: number; since?: number }) => { lines: LogLine[]; truncated?: true }) {
  const fake = new FakeCore();
  fake.handlers["container:follow_logs"] = () => ({ id: ID, following: true });
  fake.handlers["container:unfollow_logs"] = () => ({ id: ID, following: false });
  fake.handlers["container:logs"] = logs;
  return fake;
}

/** The texts of the next `n` lines an iterator gives. */
async function next(iterator: AsyncIterator<LogLine>, n: number): Promise<string[]> {
  const texts: string[] = [];
  while (texts.length < n) {
    const r = await iterator.next();
    if (r.done) break;
    texts.push(r.value.text);
  }
  return texts;
}

/** The texts of every line an iterator gives until it ends. */
async function rest(iterator: AsyncIterable<LogLine>): Promise<string[]> {
  const texts: string[] = [];
  for await (const l of iterator) texts.push(l.text);
  return texts;
}

describe("LogFollows", () => {
  it("has an iterator that joins while the follow is being opened read its tail only once the follow is open", async () => {
    const fake = berth(() => ({ lines: [line(1, "a"), line(2, "b")] }));
    const opening = deferred<unknown>();
    fake.handlers["container:follow_logs"] = () => opening.promise;
    const follows = new LogFollows(fake.core);
    const first = follows.follow(ID, 2);
    const second = follows.follow(ID, 2);
    await settle();
    // Read before the follow exists, the tail would miss every line written until it does.
    expect(fake.callsOf("container:logs")).toHaveLength(0);
    opening.resolve({ id: ID, following: true });
    await settle();
    fake.push("container:log", { id: ID, ...line(3, "c") });
    expect(await next(first, 3)).toEqual(["a", "b", "c"]);
    expect(await next(second, 3)).toEqual(["a", "b", "c"]);
    expect(fake.callsOf("container:follow_logs")).toHaveLength(1);
    follows.end();
  });

  it("opens the follow again when its container runs again (a restart), and reads what it missed since its last line", async () => {
    const fake = berth(({ since }) => ({
      lines: since === undefined ? [] : [line(2, "b"), line(3, "c (before the follow reopened)")],
    }));
    const follows = new LogFollows(fake.core);
    const logs = follows.follow(ID, 0);
    await settle();
    fake.push("container:log", { id: ID, ...line(2, "b") });
    expect(await next(logs, 1)).toEqual(["b"]);
    // The engine ended berth's follow when the container stopped; nothing says so but the status.
    fake.push("container:status_changed", status("running", "restarting", 5));
    fake.push("container:status_changed", status("restarting", "running", 6));
    await settle();
    fake.push("container:log", { id: ID, ...line(7, "d") });
    expect(await next(logs, 2)).toEqual(["c (before the follow reopened)", "d"]);
    expect(fake.callsOf("container:follow_logs")).toHaveLength(2);
    expect(fake.callsOf("container:logs").at(-1)?.payload).toEqual({ id: ID, since: 2, tail: MAX_LOG_TAIL });
    follows.end();
  });

  it("has a stream that gave no line yet read, once its container runs again, from when it stopped", async () => {
    const fake = berth(({ since }) => ({ lines: since === 5 ? [line(6, "starting up")] : [] }));
    const follows = new LogFollows(fake.core);
    const logs = follows.follow(ID, 0);
    await settle();
    fake.push("container:status_changed", status("running", "exited", 5));
    fake.push("container:status_changed", status("exited", "starting", 5.5));
    fake.push("container:status_changed", status("starting", "running", 7));
    expect(await next(logs, 1)).toEqual(["starting up"]);
    follows.end();
  });

  it("leaves the follow alone when the container comes up from starting (its process was already running)", async () => {
    const fake = berth(() => ({ lines: [] }));
    const follows = new LogFollows(fake.core);
    follows.follow(ID, 0);
    await settle();
    fake.push("container:status_changed", status("starting", "running", 5));
    await settle();
    expect(fake.callsOf("container:follow_logs")).toHaveLength(1);
    follows.end();
  });

  it("ends its iterators cleanly when the container is deleted, and leaves other containers' alone", async () => {
    const fake = berth(() => ({ lines: [] }));
    const follows = new LogFollows(fake.core);
    const logs = follows.follow(ID, 0);
    const other = follows.follow("c2", 0);
    await settle();
    fake.push("container:status_changed", status("running", "removing", 5));
    expect(await logs.next()).toEqual({ value: undefined, done: true });
    expect(other.ended).toBe(false);
    // Nothing to close on berth for the deleted one.
    expect(fake.callsOf("container:unfollow_logs")).toHaveLength(0);
    follows.end();
  });

  it("ends its iterators cleanly when a resume finds the container deleted meanwhile", async () => {
    const fake = berth(() => ({ lines: [] }));
    const follows = new LogFollows(fake.core);
    const logs = follows.follow(ID, 0);
    await settle();
    fake.handlers["container:follow_logs"] = () => {
      throw new BerthError({ code: "NOT_FOUND", message: "gone", category: "validation", retryable: false });
    };
    await follows.resume();
    expect(await logs.next()).toEqual({ value: undefined, done: true });
    expect(fake.callsOf("container:unfollow_logs")).toHaveLength(0);
  });

  it("counts in dropped a gap a resume could not read back (berth's tail or byte budget cut it)", async () => {
    const many = Array.from({ length: MAX_LOG_TAIL }, (_, i) => line(100 + i, `l${i}`));
    let answer: { lines: LogLine[]; truncated?: true } = { lines: [] };
    const fake = berth(() => answer);
    const follows = new LogFollows(fake.core);
    const logs = follows.follow(ID, 0);
    await settle();
    fake.push("container:log", { id: ID, ...line(1, "a") });
    expect(await next(logs, 1)).toEqual(["a"]);
    answer = { lines: many };
    await follows.resume();
    expect(fake.callsOf("container:logs").at(-1)?.payload).toEqual({ id: ID, since: 1, tail: MAX_LOG_TAIL });
    expect(logs.dropped).toBe(1);
    // A resume whose oldest line is the last one given missed nothing, however many lines came.
    answer = { lines: [line(MAX_LOG_TAIL + 99, `l${MAX_LOG_TAIL - 1}`), line(9_999, "z")], truncated: true };
    await follows.resume();
    expect(logs.dropped).toBe(1);
    follows.end();
  });

  it("counts berth's container:dropped for a container's logs in each of its iterators' dropped", async () => {
    const fake = berth(() => ({ lines: [] }));
    const follows = new LogFollows(fake.core);
    const [a, b] = [follows.follow(ID, 0), follows.follow(ID, 0)];
    const other = follows.follow("c2", 0);
    await settle();
    fake.push("container:dropped", { id: ID, stream: "logs", count: 7 });
    fake.push("container:dropped", { id: ID, stream: "stats", count: 3 });
    expect([a.dropped, b.dropped, other.dropped]).toEqual([7, 7, 0]);
    follows.end();
  });

  it("keeps a follow whose open a drop interrupted, and ends one berth refused with its error", async () => {
    const fake = berth(() => ({ lines: [] }));
    fake.handlers["container:follow_logs"] = () => {
      throw BerthError.client("DISCONNECTED");
    };
    const follows = new LogFollows(fake.core);
    const kept = follows.follow(ID, 0);
    await settle();
    expect(kept.ended).toBe(false);
    fake.handlers["container:follow_logs"] = () => {
      throw BerthError.client("BAD_RESPONSE");
    };
    const refused = follows.follow("c2", 0);
    await expect(refused.next()).rejects.toMatchObject({ code: "BAD_RESPONSE" });
    follows.end();
  });

  it("opens the follow again when the container runs again after a resume that may have missed its stop", async () => {
    const fake = berth(({ since }) => ({
      lines: since === 1 ? [line(1, "a"), line(3, "b (as it came up)")] : [],
    }));
    const follows = new LogFollows(fake.core);
    const logs = follows.follow(ID, 0);
    await settle();
    fake.push("container:log", { id: ID, ...line(1, "a") });
    expect(await next(logs, 1)).toEqual(["a"]);
    // A drop without session recovery, while the container went running → restarting: the resume opens
    // the follow while the container is down, and the engine ends it at once. Only `running` comes.
    await follows.resume();
    fake.push("container:status_changed", status("restarting", "running", 4));
    await settle();
    expect(fake.callsOf("container:follow_logs")).toHaveLength(3);
    expect(await next(logs, 1)).toEqual(["b (as it came up)"]);
    follows.end();
  });

  it("opens the follow again one at a time, and once more after when the container ran again meanwhile", async () => {
    const fake = berth(() => ({ lines: [] }));
    const follows = new LogFollows(fake.core);
    follows.follow(ID, 0);
    await settle();
    const opening = deferred<unknown>();
    fake.handlers["container:follow_logs"] = () => opening.promise;
    const resumed = follows.resume();
    // A recovered session replays the statuses it missed while the resume's follow is being opened.
    fake.push("container:status_changed", status("running", "exited", 5));
    fake.push("container:status_changed", status("exited", "running", 6));
    fake.push("container:status_changed", status("running", "exited", 7));
    fake.push("container:status_changed", status("exited", "running", 8));
    await settle();
    // Two at once would run two engine follows, and a line both carry would be given twice.
    expect(fake.callsOf("container:follow_logs")).toHaveLength(2);
    fake.handlers["container:follow_logs"] = () => ({ id: ID, following: true });
    opening.resolve({ id: ID, following: true });
    await resumed;
    await settle();
    expect(fake.callsOf("container:follow_logs")).toHaveLength(3);
    follows.end();
  });

  it("gives a late stderr line older than the newest a resume read, but none older than where it resumed", async () => {
    const fake = berth(({ since }) => ({ lines: since === 5 ? [line(5, "a"), line(10, "out")] : [] }));
    const follows = new LogFollows(fake.core);
    const logs = follows.follow(ID, 0);
    await settle();
    fake.push("container:log", { id: ID, ...line(5, "a") });
    expect(await next(logs, 1)).toEqual(["a"]);
    await follows.resume();
    // docker writes stdout and stderr from separate goroutines: a stderr line stamped 9 can come after 10.
    fake.push("container:log", { id: ID, stream: "stderr", ts: 9, text: "err" });
    fake.push("container:log", { id: ID, ...line(4, "older than the resume") });
    fake.push("container:log", { id: ID, ...line(11, "next") });
    follows.end();
    expect(await rest(logs)).toEqual(["out", "err", "next"]);
  });

  it("closes a follow opened again after its last iterator returned, once the open settles", async () => {
    const fake = berth(() => ({ lines: [] }));
    const follows = new LogFollows(fake.core);
    const logs = follows.follow(ID, 0);
    await settle();
    const opening = deferred<unknown>();
    fake.handlers["container:follow_logs"] = () => opening.promise;
    const resumed = follows.resume();
    await settle();
    await logs.return?.();
    opening.resolve({ id: ID, following: true });
    await resumed;
    await settle();
    // The unfollow sent when the iterator returned went before the open it raced; one more closes it.
    expect(fake.calls.at(-1)?.event).toBe("container:unfollow_logs");
    expect(fake.callsOf("container:unfollow_logs")).toHaveLength(2);
  });
});
