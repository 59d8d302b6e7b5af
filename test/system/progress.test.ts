import { beforeAll, describe, expect, it } from "vitest";
import type { Container, ContainerProgressEvent, CreatedContainer } from "../../packages/client/src/index.ts";
import { type Client, call, useTestServer } from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

/**
 * `progress: { opId }` on create, update, rollback and restart: berth tells
 * the calling connection each step as it starts and ends, before the answer,
 * and no one else — not another connection of the same owner, not another owner.
 * The operations go through the SDK's `onProgress` (which chooses the opId);
 * every event alice's connection receives is heard too, so that each test can
 * check that the SDK handed over exactly the events of its operation.
 */
describe("progress on long operations", () => {
  const server = useTestServer();
  let alice: Client;
  let alicesOther: Client;
  let bob: Client;
  let id: string;
  let app: Container;
  const heard: ContainerProgressEvent[] = [];
  const heardElsewhere: ContainerProgressEvent[] = [];
  // The failures here are wrong answers; the timeout is long so that a loaded machine's slow answer is none.
  const healthCheck = { request: { health: true }, expect: { ok: true }, timeoutMs: 10_000 };

  /** An `onProgress` that keeps what it is given in `events`. */
  const track = () => {
    const events: ContainerProgressEvent[] = [];
    const onProgress = (e: ContainerProgressEvent) => {
      events.push(e);
    };
    return { events, onProgress };
  };
  /**
   * The steps an operation's `onProgress` was given, as `step:status` — after
   * checking that they all carry one opId and are every event alice's
   * connection heard with it.
   */
  const steps = (events: ContainerProgressEvent[]) => {
    const opIds = new Set(events.map((e) => e.opId));
    expect(opIds.size).toBe(1);
    expect(heard.filter((e) => opIds.has(e.opId))).toEqual(events);
    return events.map((e) => `${e.step}:${e.status}`);
  };
  const both = (...names: string[]) => names.flatMap((n) => [`${n}:started`, `${n}:done`]);

  beforeAll(async () => {
    [alice, alicesOther, bob] = await Promise.all([
      server.connect("alice"),
      server.connect("alice"),
      server.connect("bob"),
    ]);
    alice.on("container:progress", (e) => heard.push(e));
    for (const c of [alicesOther, bob]) c.on("container:progress", (e) => heardElsewhere.push(e));
  });

  it("tells the caller each step of a create, in order, and answers with the same timings", async () => {
    const progress = track();
    app = await alice.containers.create(
      { name: "app", code: versioned("v1") },
      { onProgress: progress.onProgress },
    );
    const created = app.info as CreatedContainer;
    id = app.id;
    expect(steps(progress.events)).toEqual(both("validate", "write", "create", "start", "ready"));
    const events = progress.events;
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
    const quiet = await alice.containers.create({ name: "quiet", start: false });
    expect((quiet.info as CreatedContainer).timings).toMatchObject({
      validate: expect.any(Number),
      start: 0,
      ready: 0,
    });
    expect(heard.length).toBe(before);
  });

  it("tells the caller each step of an update, health included", async () => {
    const progress = track();
    const result = await app.update(versioned("v2"), { healthCheck, onProgress: progress.onProgress });
    expect(steps(progress.events)).toEqual(
      both("validate", "write", "stop", "switch", "start", "ready", "health"),
    );
    const done = progress.events.filter((e) => e.status === "done");
    for (const e of done) expect(result.timings[e.step as keyof typeof result.timings]).toBe(e.ms);
  });

  it("reports the step that failed, then the steps that put the previous release back", async () => {
    const progress = track();
    await expect(
      app.update(versioned("v3", { prelude: "throw new Error('boom');" }), {
        onProgress: progress.onProgress,
      }),
    ).rejects.toMatchObject({ code: "UPDATE_ROLLED_BACK" });
    expect(steps(progress.events)).toEqual([
      ...both("validate", "write", "stop", "switch", "start"),
      "ready:started",
      "ready:failed",
      ...both("rollback:stop", "rollback:switch", "rollback:start", "rollback:ready"),
    ]);
    const failed = progress.events.find((e) => e.status === "failed");
    expect(failed?.ms).toBeGreaterThanOrEqual(0);
  });

  it("tells the caller each step of a rollback", async () => {
    const progress = track();
    await app.rollback({ release: 1, onProgress: progress.onProgress });
    expect(steps(progress.events)).toEqual(both("stop", "switch", "start", "ready"));
  });

  it("tells the caller each step of a restart", async () => {
    const progress = track();
    await app.restart({ timeoutSec: 1, onProgress: progress.onProgress });
    expect(steps(progress.events)).toEqual(both("stop", "start", "ready"));
  });

  it("reports a create that fails at validation as a failed validate step", async () => {
    const progress = track();
    await expect(
      alice.containers.create({ name: "app" /* taken */ }, { onProgress: progress.onProgress }),
    ).rejects.toMatchObject({
      code: "NAME_CONFLICT",
    });
    expect(steps(progress.events)).toEqual(["validate:started", "validate:failed"]);
  });

  it("tells bob nothing when he asks for progress on alice's container: NOT_FOUND, and no step", async () => {
    // bob cannot get a handle on alice's container, so he asks with the events themselves and an opId of his own.
    await expect(bob.containers.get(id)).rejects.toMatchObject({ code: "NOT_FOUND" });
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
    await Promise.all([alicesOther, bob].map((c) => c.containers.list().page()));
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
    const names: string[] = [];
    for await (const c of alice.containers.list()) names.push(c.name);
    expect(names).not.toContain("never");
  });
});
