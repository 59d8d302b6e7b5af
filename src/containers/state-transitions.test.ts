import { describe, expect, it } from "vitest";
import { CONTAINER_STATES, type ContainerState } from "#protocol";
import { BerthError } from "../errors/berth-error.ts";
import { STARTABLE, STOPPABLE } from "./container-state.ts";
import { assertTransition, isAllowedTransition } from "./state-transitions.ts";

/**
 * Every move berth's operations made over the lifecycle, update, restart
 * policy, engine outage, berth restart, storage fault and kill-round system
 * tests, read from a trace of the state writes (from, to, reason). The table
 * must keep allowing each; a new kind of move is added to the table on
 * purpose, with its reason, not found in production as an INTERNAL error.
 */
const SEEN_FROM_OPERATIONS: ReadonlyArray<[ContainerState, ContainerState, string]> = [
  ["created", "removing", "deleted; interrupted create undone"],
  ["created", "running", "started by the create"],
  ["exited", "removing", "deleted"],
  ["exited", "starting", "starting"],
  ["exited", "stopped", "stopped"],
  ["missing", "removing", "deleted"],
  ["restarting", "running", "restarted; interrupted restart finished"],
  ["running", "exited", "exited before ready"],
  ["running", "removing", "deleted"],
  ["running", "restarting", "restarting"],
  ["running", "stopping", "stopping"],
  ["running", "updating", "switching to release N"],
  ["starting", "exited", "start failed (engine unreachable: back to where it was)"],
  ["starting", "running", "started"],
  ["starting", "stopped", "start failed (engine unreachable: back to where it was)"],
  ["starting", "stopping", "stopping (a start the store could not finish recording)"],
  ["stopped", "removing", "deleted"],
  ["stopped", "restarting", "restarting"],
  ["stopped", "starting", "starting"],
  ["stopped", "updating", "switching to release N"],
  ["stopping", "running", "stop failed (engine unreachable: back to where it was)"],
  ["stopping", "stopped", "stopped; interrupted stop finished"],
  ["updating", "running", "release N is running; rolled back; interrupted update undone"],
  ["updating", "failed", "update failed; rollback failed"],
];

/** What the engine's events and resyncs recorded in the same runs. */
const SEEN_FROM_ENGINE: ReadonlyArray<[ContainerState, ContainerState]> = [
  ["running", "exited"],
  ["running", "missing"],
  ["running", "stopped"],
  ["exited", "running"],
  ["stopped", "running"],
  ["restarting", "running"],
  ["running", "paused"],
  ["paused", "running"],
];

describe("container state transitions", () => {
  it.each(SEEN_FROM_OPERATIONS)("lets an operation move %s → %s (%s)", (from, to) => {
    expect(isAllowedTransition(from, to, "operation")).toBe(true);
  });

  it.each(SEEN_FROM_ENGINE)("lets the engine move %s → %s", (from, to) => {
    expect(isAllowedTransition(from, to, "engine")).toBe(true);
  });

  it("lets each operation begin from every state it may begin from, and go back there when the engine is away", () => {
    const refused: string[] = [];
    const check = (from: ContainerState, to: ContainerState) => {
      if (!isAllowedTransition(from, to, "operation")) refused.push(`${from} → ${to}`);
    };
    for (const from of STARTABLE) {
      if (from === "running") continue; // a start of a running container asks the engine and records running
      check(from, "starting");
      check("starting", from);
    }
    for (const from of STOPPABLE) {
      check(from, "restarting");
      if (from === "stopped" || from === "created") continue; // nothing to stop
      if (from === "exited") {
        check(from, "stopped");
        continue;
      }
      check(from, "stopping");
      check("stopping", from);
    }
    for (const from of CONTAINER_STATES) {
      if (from !== "removing") check(from, "removing");
      if (from !== "removing" && from !== "missing") check(from, "updating");
    }
    expect(refused).toEqual([]);
  });

  it("lets any state be written again with new facts", () => {
    for (const state of CONTAINER_STATES) {
      expect(isAllowedTransition(state, state, "operation")).toBe(true);
      expect(isAllowedTransition(state, state, "engine")).toBe(true);
    }
  });

  it("leads nowhere from removing, whoever asks", () => {
    for (const to of CONTAINER_STATES.filter((s) => s !== "removing")) {
      expect(isAllowedTransition("removing", to, "operation")).toBe(false);
      expect(isAllowedTransition("removing", to, "engine")).toBe(false);
    }
  });

  it("refuses what no operation does", () => {
    const refused: Array<[ContainerState, ContainerState]> = [
      ["missing", "running"],
      ["missing", "updating"],
      ["paused", "starting"],
      ["updating", "created"],
      ["stopped", "paused"],
      ["running", "created"],
      ["stopped", "missing"],
    ];
    for (const [from, to] of refused) expect(isAllowedTransition(from, to, "operation")).toBe(false);
  });

  it("refuses engine reports of berth's own steps (the engine never says starting, updating, removing or failed)", () => {
    for (const to of ["starting", "stopping", "updating", "removing", "failed"] as const) {
      expect(isAllowedTransition("running", to, "engine")).toBe(false);
    }
  });

  it("throws an INTERNAL error naming the move, before anything is written", () => {
    let thrown: unknown;
    try {
      assertTransition("removing", "running", "operation");
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BerthError);
    expect(thrown).toMatchObject({
      code: "INTERNAL",
      details: { transition: "removing → running", cause: "operation" },
    });
    expect(() => assertTransition("running", "stopping", "operation")).not.toThrow();
  });
});
