import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { within } from "../helpers/deadline.ts";
import { helloThen, nextStatus } from "../helpers/events.ts";
import { type Client, call, useTestServer } from "../helpers/test-server.ts";

describe("a container removed behind berth's back", () => {
  const server = useTestServer();
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    alice = await server.connect("alice");
    bob = await server.connect("bob");
  });

  it("becomes missing after `docker rm -f` and can then be deleted with its files", async () => {
    const c = await alice.containers.create({
      name: "rm-forced",
      code: helloThen("setInterval(() => {}, 1e6);"),
    });
    const missing = nextStatus(alice, (e) => e.id === c.id && e.to === "missing");
    execFileSync("docker", ["rm", "-f", `berth-${c.id}`]);
    await within(10_000, "the container reported missing", missing);
    expect((await c.status()).state).toBe("missing");

    // Bob cannot see it, let alone delete it (he has no handle on it: the exact answer is asked for directly).
    expect(await call(bob, "container:delete", { id: c.id })).toEqual({
      ok: true,
      data: { deleted: false },
    });

    expect(await c.delete()).toEqual({ id: c.id, deleted: true });
    expect(existsSync(join(server.dataDir, "code", c.id))).toBe(false);
    expect(existsSync(join(server.dataDir, "run", c.id))).toBe(false);
    await expect(c.status()).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
