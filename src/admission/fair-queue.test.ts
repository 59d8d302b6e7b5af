import { describe, expect, it } from "vitest";
import { RateLimitedError } from "./admission-errors.ts";
import { FairQueue, type Turn } from "./fair-queue.ts";

function fakeClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Acquires for `owner` and records the order in which turns are granted. */
function tracker(queue: FairQueue) {
  const granted: string[] = [];
  const turns: Turn[] = [];
  const ask = (owner: string, label = owner, options?: { bounded?: boolean }) =>
    queue.acquire(owner, options).then((turn) => {
      granted.push(label);
      turns.push(turn);
      return turn;
    });
  /** Releases the oldest turn held and lets the grants it causes land. */
  const releaseOne = async () => {
    turns.shift()?.release();
    await flush();
  };
  return { granted, ask, releaseOne };
}

const flush = () => new Promise((r) => setImmediate(r));

describe("FairQueue", () => {
  it("grants at once while a slot is free, and no more than `concurrency` together", async () => {
    const queue = new FairQueue({ concurrency: 2, maxWaitingPerOwner: 10, maxWaiting: 10 });
    const t = tracker(queue);
    void t.ask("alice", "a1");
    void t.ask("alice", "a2");
    void t.ask("alice", "a3");
    await flush();
    expect(t.granted).toEqual(["a1", "a2"]);
    expect(queue.running).toBe(2);
    expect(queue.waiting).toBe(1);
    await t.releaseOne();
    expect(t.granted).toEqual(["a1", "a2", "a3"]);
  });

  it("serves waiting owners round-robin: a latecomer is not stuck behind another owner's burst", async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaitingPerOwner: 100, maxWaiting: 100 });
    const t = tracker(queue);
    for (let i = 1; i <= 30; i++) void t.ask("alice", `a${i}`);
    void t.ask("bob", "b1");
    void t.ask("bob", "b2");
    void t.ask("carol", "c1");
    await flush();
    for (let i = 0; i < 8; i++) await t.releaseOne();
    // a1 took the free slot; then one turn per owner in the order they began waiting.
    expect(t.granted).toEqual(["a1", "a2", "b1", "c1", "a3", "b2", "a4", "a5", "a6"]);
  });

  it("refuses beyond an owner's waiting bound with RATE_LIMITED and a retry-after, leaving other owners alone", async () => {
    const queue = new FairQueue({
      concurrency: 1,
      maxWaitingPerOwner: 2,
      maxWaiting: 10,
      initialTurnMs: 300,
    });
    const t = tracker(queue);
    void t.ask("alice");
    void t.ask("alice");
    void t.ask("alice");
    const refused = queue.acquire("alice");
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused).rejects.toMatchObject({
      code: "RATE_LIMITED",
      retryable: true,
      details: { limit: "engine_queue", retryAfterMs: 300 },
    });
    void t.ask("bob");
    await flush();
    expect(queue.waiting).toBe(3);
  });

  it("refuses beyond the total bound, whoever asks", async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaitingPerOwner: 10, maxWaiting: 2 });
    const t = tracker(queue);
    void t.ask("alice");
    void t.ask("alice");
    void t.ask("bob");
    await expect(queue.acquire("carol")).rejects.toMatchObject({ details: { limit: "engine_queue" } });
  });

  it("lets an unbounded request wait even when the queue is full", async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaitingPerOwner: 1, maxWaiting: 1 });
    const t = tracker(queue);
    void t.ask("alice", "a1");
    void t.ask("alice", "a2");
    void t.ask("alice", "step", { bounded: false });
    await flush();
    expect(queue.waiting).toBe(2);
    await t.releaseOne();
    await t.releaseOne();
    expect(t.granted).toEqual(["a1", "a2", "step"]);
  });

  it("estimates retry-after from how long turns have taken", async () => {
    const clock = fakeClock();
    const queue = new FairQueue({
      concurrency: 2,
      maxWaitingPerOwner: 1,
      maxWaiting: 10,
      clock,
      initialTurnMs: 100,
    });
    const t = tracker(queue);
    for (let round = 0; round < 30; round++) {
      const turn = await queue.acquire("alice");
      clock.advance(1000);
      turn.release();
    }
    void t.ask("alice");
    void t.ask("alice");
    void t.ask("alice");
    const err = await queue.acquire("alice").catch((e: unknown) => e);
    // About one turn (1000 ms) per slot (2) per owner waiting (1).
    expect((err as RateLimitedError).retryAfterMs).toBeGreaterThan(450);
    expect((err as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(500);
  });

  it("releases a turn once, however often release() is called", async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaitingPerOwner: 10, maxWaiting: 10 });
    const turn = await queue.acquire("alice");
    turn.release();
    turn.release();
    expect(queue.running).toBe(0);
  });
});
