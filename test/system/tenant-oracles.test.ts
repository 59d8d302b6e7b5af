import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientEvent } from "#protocol";
import type { Container } from "../../packages/client/src/index.ts";
import { RequestSchemas } from "../../src/api/contract.ts";
import { eventually } from "../helpers/deadline.ts";
import { type Client, call, echoCode, ok, type RawClient, useTestServer } from "../helpers/test-server.ts";

/**
 * Tenant pairs on every event: bob must learn nothing about alice's
 * containers — not from an answer, not from a push. For each client event
 * that names a container, bob's answer about alice's container must be the
 * same, word for word, as his answer about a container that does not exist;
 * otherwise the difference is an oracle (existence, state, names).
 *
 * The table is typed over every event of the contract, so a new event that
 * is not listed here fails to compile.
 */
type RefPayload = (ref: string) => Record<string, unknown>;

const REFERENCING: Record<ClientEvent, RefPayload | null> = {
  "container:create": null,
  "container:list": null,
  "containers:watch_stats": null,
  "containers:unwatch_stats": null,
  "container:start": (id) => ({ id }),
  "container:stop": (id) => ({ id, timeoutSec: 0 }),
  "container:restart": (id) => ({ id, timeoutSec: 0 }),
  "container:delete": (id) => ({ id }),
  "container:status": (id) => ({ id }),
  "container:send": (id) => ({ id, data: { probe: true } }),
  "container:request": (id) => ({ id, data: { probe: true }, timeoutMs: 1000 }),
  "container:subscribe": (id) => ({ id }),
  "container:unsubscribe": (id) => ({ id }),
  "container:update": (id) => ({ id, code: { files: { "index.js": "// probe" } } }),
  "container:rollback": (id) => ({ id }),
  "container:releases": (id) => ({ id }),
  "container:stats": (id) => ({ id }),
  "container:watch_stats": (id) => ({ id }),
  "container:unwatch_stats": (id) => ({ id }),
  "container:stats_history": (id) => ({ id }),
  "containers:stats_history": null, // the caller's own containers only (stats-history.test.ts)
  "container:logs": (id) => ({ id }),
  "container:follow_logs": (id) => ({ id }),
  "container:unfollow_logs": (id) => ({ id }),
  "activity:history": (containerId) => ({ containerId }),
  "server:info": null,
  "image:check": null, // the admin's only: bob is refused FORBIDDEN whatever he names (image-check.test.ts)
};

/** A well-formed container id that no container has. */
const NO_SUCH_ID = "C00000000000";
const NO_SUCH_NAME = "no-such-container";

describe("tenant pairs on every event", () => {
  const server = useTestServer();
  let alice: Client;
  // Bob is a bare socket: his answers are compared word for word as berth sent them, and onAny sees every push.
  let bob: RawClient;
  const seenByBob: Array<[string, unknown]> = [];
  let secretContainer: Container;
  let bobsOwn: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connectRaw("bob")]);
    bob.onAny((event: string, payload: unknown) => seenByBob.push([event, payload]));
    // Bob runs a workload of his own, so that his overview ticks while alice works.
    bobsOwn = (await ok(bob, "container:create", { name: "bobs-bot", code: await echoCode() })).id;
    await ok(bob, "containers:watch_stats", { intervalMs: 250 });
    secretContainer = await alice.containers.create({
      name: "alices-private-bot",
      code: await echoCode(),
      secretEnv: { API_KEY: "alice-only-secret-value" },
      labels: { team: "alice-team" },
    });
  });

  afterAll(async () => {
    await secretContainer.delete().catch(() => {});
    await call(bob, "container:delete", { id: bobsOwn });
  });

  it("answers bob about alice's container exactly as about one that does not exist", async () => {
    const differences: string[] = [];
    for (const [event, payload] of Object.entries(REFERENCING) as Array<[ClientEvent, RefPayload | null]>) {
      if (!payload) continue;
      expect(RequestSchemas[event]).toBeDefined();
      for (const [real, missing] of [
        [secretContainer.id, NO_SUCH_ID],
        [secretContainer.name, NO_SUCH_NAME],
      ] as const) {
        const aboutAlice = normalise(await call(bob, event, payload(real)), real);
        const aboutNobody = normalise(await call(bob, event, payload(missing)), missing);
        if (JSON.stringify(aboutAlice) !== JSON.stringify(aboutNobody)) {
          differences.push(
            `${event}(${real}): ${JSON.stringify(aboutAlice)} vs ${JSON.stringify(aboutNobody)}`,
          );
        }
      }
    }
    expect(differences).toEqual([]);
    // None of it touched alice's container.
    const status = await secretContainer.status();
    expect(status.state).toBe("running");
    expect(await secretContainer.releases()).toHaveLength(1);
  });

  it("lists and filters show bob nothing of alice's", async () => {
    for (const filter of [{}, { namePrefix: "alices" }, { label: "team" }, { label: "team=alice-team" }]) {
      const list = await ok(bob, "container:list", { filter });
      expect(list.items.map((c) => c.id)).toEqual(Object.keys(filter).length === 0 ? [bobsOwn] : []);
    }
    const history = await ok(bob, "activity:history", {});
    expect(JSON.stringify(history)).not.toContain(secretContainer.id);
  });

  it("pushes bob nothing while alice's container works, updates, stops and restarts", async () => {
    const bot = secretContainer;
    const offMessages = bot.onMessage(() => {});
    await offMessages.ready;
    // The follow and the watch are asked for at once, ahead of what follows on the same connection.
    const logs = bot.followLogs();
    const stats = bot.watchStats({ intervalMs: 250 });
    await bot.send({ hello: "alice" });
    await bot.request({ n: 1 });
    await bot.update(await echoCode());
    await bot.restart({ timeoutSec: 0 });
    // Bob's own overview ticks meanwhile: wait for a few of them, so pushes about alice had every chance to leak.
    const ticksBefore = seenByBob.filter(([e]) => e === "containers:resource_usage").length;
    await eventually(
      10_000,
      "three overview ticks for bob",
      () => seenByBob.filter(([e]) => e === "containers:resource_usage").length >= ticksBefore + 3,
    );
    const leaked = seenByBob.filter(([, p]) => {
      const text = JSON.stringify(p);
      return text.includes(secretContainer.id) || text.includes(secretContainer.name);
    });
    expect(leaked).toEqual([]);
    // Every push bob did get is about his own container.
    for (const [event, payload] of seenByBob) {
      const p = payload as { id?: unknown; containerId?: unknown; samples?: Array<{ id: string }> };
      if (event === "containers:resource_usage") expect(p.samples?.map((s) => s.id)).toEqual([bobsOwn]);
      else expect(p.containerId ?? p.id).toSatisfy((id) => id === bobsOwn || typeof id === "number");
    }
    offMessages();
    await logs.return?.();
    await stats.return?.();
  });
});

/** The reference itself may be echoed in a message; everything else must match. */
function normalise(answer: unknown, ref: string): unknown {
  return JSON.parse(JSON.stringify(answer).split(ref).join("<ref>"));
}
