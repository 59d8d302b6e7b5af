import { availableParallelism } from "node:os";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type HoldEvent, heldNanoCpus, OutputHolds, type OutputHoldsOptions } from "./output-holds.ts";

const OWN = 5e8; // the spec's 0.5 CPU
const HELD = { holdMs: 30_000, heldCpus: 0.1, leastCpus: 0.05 };

/**
 * The engine's container update, answering when the test says: each call waits
 * in `pending` until `answer()` (or `refuse()`) settles the oldest one.
 */
class FakeEngineUpdates {
  /** Every limit the engine was asked for, in the order asked: "dockerId=nanoCpus". */
  readonly asked: string[] = [];
  /** The limit each container has now, as the engine took it. */
  readonly limits = new Map<string, number>();
  readonly pending: Array<{ ok: () => void; fail: (err: unknown) => void }> = [];
  autoAnswer = true;

  readonly setCpuLimit = (dockerId: string, nanoCpus: number): Promise<void> => {
    this.asked.push(`${dockerId}=${nanoCpus}`);
    return new Promise((resolve, reject) => {
      const settle = {
        ok: () => {
          this.limits.set(dockerId, nanoCpus);
          resolve();
        },
        fail: reject,
      };
      if (this.autoAnswer) settle.ok();
      else this.pending.push(settle);
    });
  };

  /** Answers the oldest update asked for (once asked: they are queued), and lets the answer land. */
  async answer(): Promise<void> {
    await settle();
    this.pending.shift()?.ok();
    await settle();
  }

  async refuse(err: unknown = new Error("engine busy")): Promise<void> {
    await settle();
    this.pending.shift()?.fail(err);
    await settle();
  }
}

let engine: FakeEngineUpdates;
let ended: string[];
let events: HoldEvent[];
let holds: OutputHolds;

function newHolds(options: Partial<OutputHoldsOptions> = {}): OutputHolds {
  return new OutputHolds({
    nanoCpusOf: () => OWN,
    setCpuLimit: engine.setCpuLimit,
    ...HELD,
    onEnded: (key) => ended.push(key),
    onHold: (event) => events.push(event),
    ...options,
  });
}

/** Lets the updates asked for reach the fake engine and their answers come back. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  engine = new FakeEngineUpdates();
  ended = [];
  events = [];
  holds = newHolds();
});

afterEach(async () => {
  engine.autoAnswer = true;
  while (engine.pending.length > 0) await engine.answer();
  await holds.close();
  vi.useRealTimers();
});

describe("OutputHolds", () => {
  it("holds a container at the held CPU, says so, and knows since when", async () => {
    expect(holds.hold("C1", "d1", 1_000)).toBe(0.1);
    await settle();
    expect(engine.limits.get("d1")).toBe(1e8);
    expect(holds.held).toBe(1);
    expect(holds.of("C1")).toMatchObject({ sinceMs: 1_000, nanoCpus: 1e8 });
    expect(holds.of("C2")).toBeUndefined();
    expect(events).toEqual([{ kind: "held", containerKey: "C1", dockerId: "d1", nanoCpus: 1e8 }]);
  });

  it("never raises a limit: a container already at or below the held CPU keeps its own, unheld", async () => {
    holds = newHolds({ nanoCpusOf: () => 5e7 });
    expect(holds.hold("C1", "d1", 0)).toBe(0.05);
    holds = newHolds({ nanoCpusOf: () => 1e8 });
    expect(holds.hold("C2", "d2", 0)).toBe(0.1);
    await settle();
    expect(engine.asked).toEqual([]);
    expect(holds.held).toBe(0);
  });

  it("holds a container without a CPU limit of its own, as having all of the host's", async () => {
    holds = newHolds({ nanoCpusOf: () => undefined });
    holds.hold("C1", "d1", 0);
    holds.release("C1");
    await settle();
    expect(engine.asked).toEqual(["d1=100000000", `d1=${availableParallelism() * 1e9}`]);
  });

  it("steps down once, to the least CPU, and no further", async () => {
    holds.hold("C1", "d1", 0);
    holds.stepDown("C1");
    holds.stepDown("C1");
    holds.stepDown("C404");
    await settle();
    expect(engine.asked).toEqual(["d1=100000000", "d1=50000000"]);
    expect(holds.of("C1")?.nanoCpus).toBe(5e7);
  });

  it("gives the container's own limit back when the hold's time is up, and asks for it to be judged afresh", async () => {
    holds.hold("C1", "d1", 0);
    holds.stepDown("C1");
    await vi.advanceTimersByTimeAsync(HELD.holdMs - 1);
    expect(ended).toEqual([]);
    expect(engine.limits.get("d1")).toBe(5e7);
    await vi.advanceTimersByTimeAsync(1);
    expect(ended).toEqual(["C1"]);
    expect(engine.limits.get("d1")).toBe(OWN);
    expect(holds.held).toBe(0);
    expect(events.at(-1)).toEqual({ kind: "released", containerKey: "C1", dockerId: "d1", nanoCpus: OWN });
  });

  it("gives the limit back at once when released (the container stopped), and its timer no longer fires", async () => {
    holds.hold("C1", "d1", 0);
    holds.release("C1");
    holds.release("C1");
    await vi.advanceTimersByTimeAsync(HELD.holdMs);
    expect(engine.asked).toEqual(["d1=100000000", "d1=500000000"]);
    expect(ended).toEqual([]);
  });

  it("runs a container's updates one after another in the order asked, so the give-back lands last", async () => {
    engine.autoAnswer = false;
    holds.hold("C1", "d1", 0);
    holds.release("C1");
    await settle();
    // The give-back is not sent while the hold is still with the engine.
    expect(engine.asked).toEqual(["d1=100000000"]);
    await engine.answer();
    await settle();
    expect(engine.asked).toEqual(["d1=100000000", "d1=500000000"]);
    await engine.answer();
    await settle();
    expect(engine.limits.get("d1")).toBe(OWN);
  });

  it("does not make one container's update wait for another's", async () => {
    engine.autoAnswer = false;
    holds.hold("C1", "d1", 0);
    holds.hold("C2", "d2", 0);
    await settle();
    expect(engine.asked).toEqual(["d1=100000000", "d2=100000000"]);
  });

  it("keeps a give-back the engine refused, and tries it again at the container's next sample", async () => {
    engine.autoAnswer = false;
    holds.hold("C1", "d1", 0);
    await engine.answer();
    holds.release("C1");
    await settle();
    await engine.refuse();
    await settle();
    expect(holds.pendingRestores).toBe(1);
    expect(events.at(-1)).toMatchObject({ kind: "failed", containerKey: "C1", dockerId: "d1" });

    holds.retry("C1", "d1");
    // A sample while that retry is with the engine does not ask twice.
    holds.retry("C1", "d1");
    await settle();
    expect(engine.asked).toEqual(["d1=100000000", "d1=500000000", "d1=500000000"]);
    await engine.answer();
    await settle();
    expect(holds.pendingRestores).toBe(0);
    expect(engine.limits.get("d1")).toBe(OWN);
  });

  it("drops a refused give-back of a container made anew, or gone, instead of retrying it", async () => {
    class GoneError extends Error {}
    holds = newHolds({ isGone: (err) => err instanceof GoneError });
    engine.autoAnswer = false;
    holds.hold("C1", "d1", 0);
    holds.hold("C2", "d2", 0);
    await engine.answer();
    await engine.answer();
    holds.release("C1");
    holds.release("C2");
    await settle();
    await engine.refuse(new Error("engine busy"));
    await engine.refuse(new GoneError("no such container"));
    await settle();
    // C2's container is gone: nothing to give back to.
    expect(holds.pendingRestores).toBe(1);
    // C1 was made anew (another engine id): it has its own limit from its spec.
    holds.retry("C1", "d1-new");
    await settle();
    expect(holds.pendingRestores).toBe(0);
    expect(engine.asked).toHaveLength(4);
  });

  it("lets a new hold overtake a give-back still pending, whose own give-back comes when it ends", async () => {
    engine.autoAnswer = false;
    holds.hold("C1", "d1", 0);
    await engine.answer();
    holds.release("C1");
    await settle();
    await engine.refuse();
    await settle();
    engine.autoAnswer = true;
    holds.hold("C1", "d1", 10);
    await settle();
    expect(holds.pendingRestores).toBe(0);
    holds.retry("C1", "d1");
    await settle();
    expect(engine.limits.get("d1")).toBe(1e8);
    await vi.advanceTimersByTimeAsync(HELD.holdMs);
    expect(engine.limits.get("d1")).toBe(OWN);
  });

  it("gives its own limit back to a container found at a held limit that is not its own (a berth died during a hold)", async () => {
    holds.giveBackLeftover("C1", "d1", 1e8);
    holds.giveBackLeftover("C2", "d2", 5e7);
    // Not a held limit, or its own: set by someone else, or nothing to do.
    holds.giveBackLeftover("C3", "d3", 2e8);
    holds.giveBackLeftover("C4", "d4", OWN);
    holds.giveBackLeftover("C5", "d5", undefined);
    await settle();
    expect(engine.asked).toEqual(["d1=500000000", "d2=500000000"]);
    expect(heldNanoCpus(HELD)).toEqual([1e8, 5e7]);
  });

  it("gives every hold back on close and waits for the engine's answers; closing twice is safe", async () => {
    engine.autoAnswer = false;
    holds.hold("C1", "d1", 0);
    holds.hold("C2", "d2", 0);
    await engine.answer();
    await engine.answer();
    let closed = false;
    const closing = holds.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false);
    expect(holds.held).toBe(0);
    await engine.answer();
    await engine.refuse();
    await closing;
    expect(engine.asked.slice(2).sort()).toEqual(["d1=500000000", "d2=500000000"]);
    await holds.close();
    await vi.advanceTimersByTimeAsync(HELD.holdMs);
    expect(ended).toEqual([]);
  });
});
