import { describe, expect, it } from "vitest";
import { Membership } from "./membership.ts";
import type { SwarmNode } from "./swarm-nodes.ts";
import { ManualClock } from "./testing/manual-clock.ts";

const node = (
  id: string,
  state: SwarmNode["state"] = "ready",
  availability: SwarmNode["availability"] = "active",
) =>
  ({
    id,
    hostname: `host-${id}`,
    state,
    availability,
    cpus: 2,
    memoryBytes: 8 << 30,
    labels: {},
  }) satisfies SwarmNode;

/** A manager whose answers the test sets: a list, or a failure. */
function manager(first: SwarmNode[]) {
  let answer: SwarmNode[] | Error = first;
  let asked = 0;
  return {
    source: {
      listNodes: async () => {
        asked++;
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
    answer: (next: SwarmNode[] | Error) => {
      answer = next;
    },
    asked: () => asked,
  };
}

describe("Membership", () => {
  it("tells each node that appears, changes state or availability, or leaves — and nothing else", async () => {
    const m = manager([node("n1"), node("n2")]);
    const membership = new Membership({ source: m.source });
    const told: string[] = [];
    const seen = (n: SwarmNode | undefined, none: string) => (n ? `${n.state}/${n.availability}` : none);
    membership.on("changed", (now, before) =>
      told.push(`${(now ?? before)?.id}: ${seen(before, "new")} → ${seen(now, "gone")}`),
    );
    await membership.refresh();
    await membership.refresh();
    m.answer([node("n1", "down"), node("n2", "ready", "drain"), node("n3")]);
    await membership.refresh();
    m.answer([node("n1", "down"), node("n3")]);
    await membership.refresh();
    expect(told).toEqual([
      "n1: new → ready/active",
      "n2: new → ready/active",
      "n1: ready/active → down/active",
      "n2: ready/active → ready/drain",
      "n3: new → ready/active",
      "n2: ready/drain → gone",
    ]);
  });

  it("keeps the last view while the manager cannot be asked, marked stale, and says nothing of the nodes", async () => {
    const m = manager([node("n1")]);
    const membership = new Membership({ source: m.source });
    const told: unknown[] = [];
    membership.on("changed", (now) => told.push(now?.id));
    await membership.refresh();
    expect(membership.view()).toMatchObject({ fresh: true, nodes: [{ id: "n1", state: "ready" }] });

    m.answer(new Error("manager unreachable"));
    let unreachable = 0;
    membership.on("unreachable", () => unreachable++);
    await membership.refresh();
    expect(unreachable).toBe(1);
    expect(membership.view()).toMatchObject({ fresh: false, nodes: [{ id: "n1", state: "ready" }] });

    m.answer([node("n1", "down")]);
    await membership.refresh();
    expect(membership.view()).toMatchObject({ fresh: true, nodes: [{ id: "n1", state: "down" }] });
    expect(told).toEqual(["n1", "n1"]);
  });

  it("gives up an ask the manager holds (a Raft leader gone), stale meanwhile, and asks again at the next interval", async () => {
    const clock = new ManualClock();
    const m = manager([node("n1")]);
    const held: AbortSignal[] = [];
    const source = {
      // The second ask is held, as a manager holds one while the Swarm has no leader; the others answer.
      listNodes: (signal?: AbortSignal) =>
        m.asked() === 1 && held.length === 0
          ? new Promise<SwarmNode[]>(() => held.push(signal!))
          : m.source.listNodes(),
    };
    const membership = new Membership({ source, everyMs: 1_000, askTimeoutMs: 3_000, clock }).start();
    const unreachable: unknown[] = [];
    membership.on("unreachable", (err) => unreachable.push(err));
    await clock.sleeping(1, 1_000);
    expect(membership.view().fresh).toBe(true);
    clock.advance(1_000); // the interval: the second ask, which the manager holds
    await clock.sleeping(1, 3_000);
    expect(held).toHaveLength(1);
    clock.advance(2_999);
    expect(held[0]!.aborted).toBe(false);
    clock.advance(1); // its timeout
    await clock.sleeping(1, 1_000);
    expect(held[0]!.aborted).toBe(true);
    expect(unreachable).toEqual([expect.objectContaining({ code: "DOCKER_UNAVAILABLE" })]);
    expect(membership.view()).toMatchObject({ fresh: false, nodes: [{ id: "n1", state: "ready" }] });

    m.answer([node("n1", "down")]);
    clock.advance(1_000); // the next interval: answered
    await clock.sleeping(1, 1_000);
    expect(membership.view()).toMatchObject({ fresh: true, nodes: [{ id: "n1", state: "down" }] });
    await membership.close();
  });

  it("asks every interval once started, and stops asking when closed", async () => {
    const clock = new ManualClock();
    const m = manager([node("n1")]);
    const membership = new Membership({ source: m.source, everyMs: 2_000, clock }).start();
    await clock.sleeping(1, 2_000);
    expect(m.asked()).toBe(1);
    clock.advance(2_000);
    await clock.sleeping(1, 2_000);
    expect(m.asked()).toBe(2);
    await membership.close();
    clock.advance(10_000);
    expect(m.asked()).toBe(2);
    await membership.close();
  });
});
