import { describe, expect, it } from "vitest";
import type { ContainerRecord } from "../store/store-ports.ts";
import { CutByCrash } from "./cut-by-crash.ts";

const row = (id: string, state: ContainerRecord["state"], dockerId: string | null = "d"): ContainerRecord =>
  ({ id, state, dockerId }) as ContainerRecord;

describe("CutByCrash", () => {
  it("holds a row only while it is as the crash left it, and only until it is settled", () => {
    const cut = CutByCrash.of([row("a", "stopping"), row("b", "running"), row("c", "created", null)]);
    expect(cut.holds(row("a", "stopping"))).toBe(true);
    expect(cut.holds(row("a", "running"))).toBe(false); // started by its owner since
    expect(cut.holds(row("b", "running"))).toBe(false); // no operation was under way
    expect(cut.holds(row("c", "created", null))).toBe(true);
    expect(cut.holds(row("c", "created", "d"))).toBe(false); // its engine id learnt since
    expect(cut.holds(row("new", "starting"))).toBe(false); // made by this berth
    cut.settle("a");
    expect(cut.holds(row("a", "stopping"))).toBe(false);
  });
});
