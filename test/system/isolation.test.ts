import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/deadline.ts";
import { type Client, call, echoCode, useTestServer } from "../helpers/test-server.ts";

/** Every container the client may see, over all pages. */
async function idsOf(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const c of client.containers.list()) ids.push(c.id);
  return ids;
}

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
      await expect(server.connect({ token })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
  });

  it("cannot see, stop or delete each other's containers; an admin sees all", async () => {
    const mine = await alice.containers.create({ name: "private", code: await echoCode() });
    const bobs = await bob.containers.create({ name: "private", code: await echoCode(), start: false });
    expect(bobs.id).not.toBe(mine.id); // names are unique per owner, not across owners

    // Bob has no handle on alice's container: each refusal is asked for directly.
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
    expect((await bob.containers.get("private")).id).toBe(bobs.id);
    await expect(bob.containers.get(mine.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await call(bob, "container:delete", { id: mine.id })).toEqual({
      ok: true,
      data: { deleted: false },
    });
    expect((await mine.status()).state).toBe("running");

    expect(await idsOf(bob)).toEqual([bobs.id]);
    expect((await idsOf(admin)).sort()).toEqual([mine.id, bobs.id].sort());
    expect((await admin.containers.get(mine.id)).info.owner).toBe("alice");

    await mine.delete();
    await bobs.delete();
  });

  it("pushes status changes to the owner's connections only", async () => {
    const seenByBob: unknown[] = [];
    const offBob = bob.on("container:status_changed", (e) => seenByBob.push(e));
    const seenByAdmin: string[] = [];
    const offAdmin = admin.on("container:status_changed", (e) => seenByAdmin.push(`${e.from}->${e.to}`));
    const events: string[] = [];
    const offAlice = alice.on("container:status_changed", (e) => events.push(`${e.from}->${e.to}`));
    const c = await alice.containers.create({ name: "pushed", code: await echoCode() });
    await c.stop();
    await c.delete();
    // Alice's pushes and the admin's come on connections of their own: waited for, not slept on.
    await eventually(
      20_000, // pushes of a container's create, stop and delete, through a loaded machine's engine
      "alice's and the admin's five pushes",
      () => events.length >= 5 && seenByAdmin.length >= 5,
    );
    offBob();
    offAdmin();
    offAlice();
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
