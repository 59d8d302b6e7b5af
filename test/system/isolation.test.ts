import { beforeAll, describe, expect, it } from "vitest";
import { type Client, call, echoCode, ok, useTestServer } from "../helpers/test-server.ts";

describe("owners", () => {
  const server = useTestServer();
  let alice: Client;
  let bob: Client;
  let admin: Client;

  beforeAll(async () => {
    [alice, bob, admin] = await Promise.all([
      server.connect("alice"),
      server.connect("bob"),
      server.connect("admin"),
    ]);
  });

  it("refuses a connection without a valid token with UNAUTHORIZED", async () => {
    for (const token of ["", "wrong-token-123456", TOKENS_PREFIX()]) {
      const err = await server.connect({ token }).then(
        () => undefined,
        (e: Error & { data?: { code?: string } }) => e,
      );
      expect(err?.data?.code).toBe("UNAUTHORIZED");
    }
  });

  it("cannot see, stop or delete each other's containers; an admin sees all", async () => {
    const mine = await ok(alice, "container:create", { name: "private", code: await echoCode() });
    const bobs = await ok(bob, "container:create", { name: "private", code: await echoCode(), start: false });
    expect(bobs.id).not.toBe(mine.id); // names are unique per owner, not across owners

    for (const event of [
      "container:status",
      "container:stop",
      "container:start",
      "container:restart",
    ] as const) {
      const res = await call(bob, event, { id: mine.id });
      expect(res).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    }
    // By name, bob reaches his own container, never alice's.
    expect((await ok(bob, "container:status", { id: "private" })).id).toBe(bobs.id);
    expect(await ok(bob, "container:delete", { id: mine.id })).toEqual({ deleted: false });
    expect((await ok(alice, "container:status", { id: mine.id })).state).toBe("running");

    const bobsList = await ok(bob, "container:list", {});
    expect(bobsList.items.map((c) => c.id)).toEqual([bobs.id]);
    const all = await ok(admin, "container:list", {});
    expect(all.items.map((c) => c.id).sort()).toEqual([mine.id, bobs.id].sort());
    expect((await ok(admin, "container:status", { id: mine.id })).owner).toBe("alice");

    await ok(alice, "container:delete", { id: mine.id });
    await ok(bob, "container:delete", { id: bobs.id });
  });

  it("pushes status changes to the owner's connections only", async () => {
    const seenByBob: unknown[] = [];
    bob.on("container:status_changed", (e) => seenByBob.push(e));
    const seenByAdmin: string[] = [];
    admin.on("container:status_changed", (e) => seenByAdmin.push(`${e.from}->${e.to}`));
    const events: string[] = [];
    alice.on("container:status_changed", (e) => events.push(`${e.from}->${e.to}`));
    const c = await ok(alice, "container:create", { name: "pushed", code: await echoCode() });
    await ok(alice, "container:stop", { id: c.id });
    await ok(alice, "container:delete", { id: c.id });
    await new Promise((r) => setTimeout(r, 100)); // pushes ride the same connection as the acks; let them land
    expect(events).toEqual([
      "new->created",
      "created->running",
      "running->stopping",
      "stopping->stopped",
      "stopped->removing",
    ]);
    expect(seenByAdmin).toEqual(events);
    expect(seenByBob).toEqual([]);
  });
});

function TOKENS_PREFIX(): string {
  return "alice-token-012345678"; // one character short of alice's token
}
