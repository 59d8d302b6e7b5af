import { beforeAll, describe, expect, it } from "vitest";
import type { ContainerProgressEvent } from "#protocol";
import { type Client, call, ok, useTestServer } from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

/**
 * `progress: { opId }` on create, update, rollback and restart: berth tells
 * the calling connection each step as it starts and ends, before the answer,
 * and no one else — not another connection of the same owner, not another owner.
 */
describe("progress on long operations", () => {
  const server = useTestServer();
  let alice: Client;
  let alicesOther: Client;
  let bob: Client;
  let id: string;
  const heard: ContainerProgressEvent[] = [];
  const heardElsewhere: Array<[string, unknown]> = [];
  const healthCheck = { request: { health: true }, expect: { ok: true }, timeoutMs: 2000 };

  /** The steps alice heard for `opId`, as `step:status`. */
  const steps = (opId: string) => heard.filter((e) => e.opId === opId).map((e) => `${e.step}:${e.status}`);
  const both = (...names: string[]) => names.flatMap((n) => [`${n}:started`, `${n}:done`]);

  beforeAll(async () => {
    [alice, alicesOther, bob] = await Promise.all([
      server.connect("alice"),
      server.connect("alice"),
      server.connect("bob"),
    ]);
    alice.on("container:progress", (e) => heard.push(e));
    for (const c of [alicesOther, bob]) {
      c.onAny((event: string, payload: unknown) => {
        if (event === "container:progress") heardElsewhere.push([event, payload]);
      });
    }
  });

  it("tells the caller each step of a create, in order, and answers with the same timings", async () => {
    const created = await ok(alice, "container:create", {
      name: "app",
      code: versioned("v1"),
      progress: { opId: "create-1" },
    });
    id = created.id;
    expect(steps("create-1")).toEqual(both("validate", "write", "create", "start", "ready"));
    const events = heard.filter((e) => e.opId === "create-1");
    expect(events.every((e) => e.id === id)).toBe(true);
    for (const e of events) {
      if (e.status === "started") expect(e.ms).toBeUndefined();
      else expect(e.ms).toBeGreaterThanOrEqual(0);
    }
    for (const step of ["validate", "write", "create", "start", "ready"] as const) {
      expect(created.timings[step]).toBe(events.find((e) => e.step === step && e.status === "done")?.ms);
    }
    expect(created.timings.total).toBeGreaterThanOrEqual(created.timings.ready);
    expect(created).toMatchObject({ id, name: "app", state: "running", release: 1 });
  });

  it("answers a create without progress with timings too, and sends no steps", async () => {
    const before = heard.length;
    const created = await ok(alice, "container:create", { name: "quiet", start: false });
    expect(created.timings).toMatchObject({ validate: expect.any(Number), start: 0, ready: 0 });
    expect(heard.length).toBe(before);
  });

  it("tells the caller each step of an update, health included", async () => {
    const result = await ok(alice, "container:update", {
      id,
      code: versioned("v2"),
      healthCheck,
      progress: { opId: "update-2" },
    });
    expect(steps("update-2")).toEqual(
      both("validate", "write", "stop", "switch", "start", "ready", "health"),
    );
    const done = heard.filter((e) => e.opId === "update-2" && e.status === "done");
    for (const e of done) expect(result.timings[e.step as keyof typeof result.timings]).toBe(e.ms);
  });

  it("reports the step that failed, then the steps that put the previous release back", async () => {
    const res = await call(alice, "container:update", {
      id,
      code: versioned("v3", { prelude: "throw new Error('boom');" }),
      progress: { opId: "update-3" },
    });
    expect(res).toMatchObject({ ok: false, error: { code: "UPDATE_ROLLED_BACK" } });
    expect(steps("update-3")).toEqual([
      ...both("validate", "write", "stop", "switch", "start"),
      "ready:started",
      "ready:failed",
      ...both("rollback:stop", "rollback:switch", "rollback:start", "rollback:ready"),
    ]);
    const failed = heard.find((e) => e.opId === "update-3" && e.status === "failed");
    expect(failed?.ms).toBeGreaterThanOrEqual(0);
  });

  it("tells the caller each step of a rollback", async () => {
    await ok(alice, "container:rollback", { id, release: 1, progress: { opId: "rollback-1" } });
    expect(steps("rollback-1")).toEqual(both("stop", "switch", "start", "ready"));
  });

  it("tells the caller each step of a restart", async () => {
    await ok(alice, "container:restart", { id, timeoutSec: 1, progress: { opId: "restart-1" } });
    expect(steps("restart-1")).toEqual(both("stop", "start", "ready"));
  });

  it("reports a create that fails at validation as a failed validate step", async () => {
    const res = await call(alice, "container:create", {
      name: "app", // taken
      progress: { opId: "create-taken" },
    });
    expect(res).toMatchObject({ ok: false, error: { code: "NAME_CONFLICT" } });
    expect(steps("create-taken")).toEqual(["validate:started", "validate:failed"]);
  });

  it("tells bob nothing when he asks for progress on alice's container: NOT_FOUND, and no step", async () => {
    for (const [event, payload] of [
      ["container:update", { id, code: versioned("bobs"), progress: { opId: "bob-1" } }],
      ["container:rollback", { id, release: 2, progress: { opId: "bob-2" } }],
      ["container:restart", { id, progress: { opId: "bob-3" } }],
    ] as const) {
      const res = await call(bob, event, payload);
      expect(res).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    }
  });

  it("sends nothing to alice's other connection or to bob", async () => {
    // A round trip on each: anything sent to them before it has arrived by now.
    await Promise.all([alicesOther, bob].map((c) => ok(c, "container:list", {})));
    expect(heardElsewhere).toEqual([]);
  });

  it.each([
    ["no opId", {}],
    ["an empty opId", { opId: "" }],
    ["an opId too long", { opId: "x".repeat(65) }],
    ["an opId with spaces", { opId: "a b" }],
    ["an opId that is not a string", { opId: 7 }],
    ["an unknown field", { opId: "ok", extra: true }],
    ["not an object", "op-1"],
  ])("refuses a progress with %s on every operation", async (_what, progress) => {
    const answers = await Promise.all([
      call(alice, "container:create", { name: "never", progress }),
      call(alice, "container:update", { id, code: versioned("v9"), progress }),
      call(alice, "container:rollback", { id, progress }),
      call(alice, "container:restart", { id, progress }),
    ]);
    for (const res of answers) {
      expect(res).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    }
    const { items } = await ok(alice, "container:list", {});
    expect(items.map((c) => c.name)).not.toContain("never");
  });
});
