import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import type { AckResponse } from "#protocol";
import type { Container } from "../../packages/client/src/index.ts";
import { managedLabels } from "../../src/containers/container-config.ts";
import { newContainerId } from "../../src/containers/container-id.ts";
import { seriesValue } from "../../src/metrics/testing/series-value.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { nextActivity, nextStatus } from "../helpers/events.ts";
import { agreeing, holdings, removeInstanceFrom } from "../helpers/instance-holdings.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { type PrivateEngine, startPrivateEngine } from "../helpers/private-engine.ts";
import { settled } from "../helpers/settled.ts";
import { type Client, echoCode, startTestServer, type TestServer, TOKENS } from "../helpers/test-server.ts";

/**
 * The engine goes away under a running berth and comes back. Always against
 * a private dockerd: stopping the shared one would take every other test's
 * containers down with it. The tests run in order, as one story: the engine
 * goes, comes back, then goes and comes back once more.
 */

/**
 * Under the adapter's 5 s retry budget: once the outage is known, nothing waits for the engine. An answer
 * takes milliseconds; the margin is for a loaded machine, and still tells it from one that waited.
 */
const FAIL_FAST_MS = 3_000;
/**
 * berth learns of an outage from a failed call or its 5 s probe, and of the
 * return from a probe every second; dockerd itself takes 1–2 s to start.
 */
const NOTICE_MS = 20_000;

if (NEEDS_ROOT) console.warn(`engine-outage tests skipped: ${NEEDS_ROOT}`);

describe.skipIf(NEEDS_ROOT)("when the Docker engine goes away and comes back", () => {
  let engine: PrivateEngine;
  let server: TestServer;
  let alice: Client;
  let reader: Client;
  let steady: Container;
  let steadyExited: Promise<unknown>;
  let stoppedDuringOutage = false;

  beforeAll(async () => {
    engine = await startPrivateEngine();
    server = await startTestServer({ BERTH_DOCKER_SOCKET: engine.socketPath });
    [alice, reader] = await Promise.all([server.connect("alice"), server.connect("alice")]);
  });
  afterAll(async () => {
    await server?.close();
    if (server && engine?.running) await removeInstanceFrom(engine.docker, server.berth.instanceId);
    await engine?.destroy();
  });
  beforeEach(({ task }) => {
    // An expected failure (it.fails) needs no engine log.
    if (task.fails) return;
    onTestFailed(async () => console.error(`the private dockerd's last lines:\n${await engine.logTail()}`));
  });

  it("while it is down: answers from its own view, fails fast with DOCKER_UNAVAILABLE, and says so on /healthz and in the feed", async () => {
    steady = await alice.containers.create({ name: "steady", code: await echoCode() });
    expect(steady.info.state).toBe("running");
    steadyExited = nextStatus(alice, (e) => e.id === steady.id && e.to === "exited");
    const told = nextActivity(alice, (e) => e.action === "engine.unavailable");

    // Clients go on working while the engine shuts down under them.
    const reads = keepReading(reader, await reader.containers.get(steady.id));
    const churn = keepChurning(alice);
    await engine.stop();
    const unavailable = await within(NOTICE_MS, "the engine.unavailable activity entry", told);
    const churned = await churn.stop();
    const read = await reads.stop();

    expect(unavailable).toMatchObject({ level: "error", action: "engine.unavailable" });
    expect(unavailable.message).toMatch(/engine is unavailable/);
    // What the shutdown caught either went through or met an engine on its way out — unreachable, or
    // answering 500 "transport is closing" — and says so, retryable. Never INTERNAL.
    for (const answer of churned) {
      if (answer.ok) continue;
      expect(answer.error).toMatchObject({ category: "docker", retryable: true });
      expect(["DOCKER_UNAVAILABLE", "DOCKER_ERROR"]).toContain(answer.error.code);
    }
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((a) => !a.ok)).toEqual([]);

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { status: string; reason: unknown };
    expect(body).toMatchObject({ status: "degraded", reason: expect.stringMatching(/\S/) });

    for (const [op, attempt] of Object.entries<() => Promise<Answer>>({
      create: () =>
        settled(alice.containers.create({ name: "during-outage", code: { files: { "index.js": "" } } })),
      // Asked of the engine whatever berth believes: the workload may have exited unseen.
      start: () => settled(steady.start()),
    })) {
      const { res, ms } = await timed(attempt);
      expect(res, op).toMatchObject({
        ok: false,
        error: { code: "DOCKER_UNAVAILABLE", category: "docker", retryable: true },
      });
      expect(ms, `${op} answered in ${Math.round(ms)} ms`).toBeLessThan(FAIL_FAST_MS);
    }

    // berth's own view. dockerd stops its containers while it shuts down; berth hears the exit but can
    // confirm it only if an inspect still gets through — a race, so either view is honest.
    const status = await timed(() => settled(steady.status()));
    expect(status.ms).toBeLessThan(FAIL_FAST_MS);
    if (!status.res.ok) throw new Error(`container:status failed: ${JSON.stringify(status.res.error)}`);
    const seen = status.res.data.state;
    expect(["running", "exited"]).toContain(seen);
    const list = await alice.containers.list().page();
    expect(list.items.find((c) => c.id === steady.id)?.state).toBe(seen);
    expect(list.items.map((c) => c.name)).not.toContain("during-outage");

    // Stopping what berth believes runs needs the engine; what it saw exit is recorded stopped at once.
    const stop = await timed(() => settled(steady.stop()));
    expect(stop.ms, `stop answered in ${Math.round(stop.ms)} ms`).toBeLessThan(FAIL_FAST_MS);
    expect(stop.res).toMatchObject(
      seen === "running"
        ? { ok: false, error: { code: "DOCKER_UNAVAILABLE", category: "docker", retryable: true } }
        : { ok: true, data: { state: "stopped" } },
    );
    stoppedDuringOutage = stop.res.ok;
    expect(alice.state).toBe("connected");
  });

  it("once it is back: healthy again without a restart, tells the feed, re-syncs states, and works again", async () => {
    const told = nextActivity(alice, (e) => e.action === "engine.available");
    const broughtBack = nextActivity(
      alice,
      (e) => e.action === "container.engine_restarted" && e.containerId === steady.id,
    );
    await engine.start();
    const available = await within(NOTICE_MS, "the engine.available activity entry", told);
    expect(available).toMatchObject({ level: "success", action: "engine.available" });

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", engine: { version: expect.any(String) } });

    // dockerd without live-restore stopped the container as it went (the echo workload exits 0 on
    // SIGTERM), and berth reports it. The owner's stop during the outage answered ok only if berth had
    // already seen that exit: then it stays stopped; otherwise berth brings it back, and says so.
    await within(NOTICE_MS, "steady reported exited", steadyExited);
    if (stoppedDuringOutage) {
      const truth = await engine.docker.getContainer(`berth-${steady.id}`).inspect();
      expect(truth.State).toMatchObject({ Status: "exited", ExitCode: 0 });
      expect(await steady.status()).toMatchObject({ state: "stopped", exitCode: 0 });
    } else {
      await within(NOTICE_MS, "steady brought back", broughtBack);
      await eventually(NOTICE_MS, "steady running again", async () => {
        const truth = await engine.docker.getContainer(`berth-${steady.id}`).inspect();
        return truth.State.Status === "running" || truth.State.Status;
      });
    }

    // The metrics saw it too: the probes the engine did not answer, and the event stream coming back.
    await eventually(NOTICE_MS, "the outage in /metrics", async () => {
      const res = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${TOKENS.admin}` },
      });
      const text = await res.text();
      const reconnects = seriesValue(text, "berth_engine_event_stream_reconnects_total") ?? 0;
      const unanswered =
        seriesValue(text, 'berth_engine_errors_total{op="probe",kind="DOCKER_UNAVAILABLE"}') ?? 0;
      return (
        (reconnects >= 1 && unanswered >= 1) || `reconnects ${reconnects}, probes unanswered ${unanswered}`
      );
    });

    // Reconciliation runs in the background and finishes what the outage cut short (a create whose answer
    // was lost, a delete half done): then rows, engine containers and directories name the same containers.
    await eventually(NOTICE_MS, "rows, engine and directories agree", async () => {
      const now = await holdings(server, alice, engine.docker);
      return JSON.stringify(now) === JSON.stringify(agreeing(now.rows)) || JSON.stringify(now);
    });

    const after = await alice.containers.create({ name: "after-outage", code: await echoCode() });
    expect(after.info.state).toBe("running");
    expect(await steady.start()).toMatchObject({ state: "running" });
    const { items } = await alice.containers.list().page({ limit: 500 });
    for (const c of items) {
      expect(await (await alice.containers.get(c.id)).delete()).toMatchObject({ deleted: true });
    }
    expect(await holdings(server, alice, engine.docker)).toEqual(agreeing([]));
  });

  // Each container is reconciled on its own: one the engine refuses to remove does not hold up the rest.
  it("after another outage, removes every leftover it can even when the engine refuses to remove one", async () => {
    // Engine containers of this instance that no row knows: what creates whose answers were lost leave.
    // The engine lists newest first, so the one it refuses to remove comes first.
    const leftover = (id: string) =>
      engine.docker.createContainer({
        name: `berth-${id}`,
        Image: "berth/runtime-node:24",
        Labels: { ...managedLabels(server.berth.instanceId), "berth.id": id },
      });
    const loose = await leftover(newContainerId());
    const stuck = await leftover(newContainerId());
    const letGo = await engine.refuseRemoval(stuck.id);
    try {
      const down = nextActivity(alice, (e) => e.action === "engine.unavailable");
      await engine.stop();
      await within(NOTICE_MS, "the engine.unavailable activity entry", down);
      const up = nextActivity(alice, (e) => e.action === "engine.available");
      await engine.start();
      await within(NOTICE_MS, "the engine.available activity entry", up);

      // The refused removal is retried for up to 5 s before reconciliation moves on.
      await eventually(15_000, "the removable leftover removed", async () => {
        const left = await engine.docker.listContainers({ all: true, filters: { id: [loose.id] } });
        return left.length === 0;
      });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await letGo();
      await stuck.remove({ force: true }).catch(() => {});
      await loose.remove({ force: true }).catch(() => {});
    }
  });
});

type Answer = AckResponse<unknown>;

async function timed<T>(fn: () => Promise<T>): Promise<{ res: T; ms: number }> {
  const started = performance.now();
  const res = await fn();
  return { res, ms: performance.now() - started };
}

/** Reads a container's status and the list in a loop until stopped: what dashboards do all day. */
function keepReading(client: Client, bot: Container): { stop(): Promise<Answer[]> } {
  const answers: Answer[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      answers.push(await settled(bot.status({ timeoutMs: 10_000 })));
      answers.push(await settled(client.containers.list().page({ timeoutMs: 10_000 })));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return answers;
    },
  };
}

/**
 * Creates and deletes containers in a loop until stopped, returning every
 * answer. They are not started: a start that the engine's shutdown cuts off
 * half-way can leave the engine (20.10) with a root filesystem still mounted
 * and a container it can never remove — the engine's fault, not berth's.
 */
function keepChurning(client: Client): { stop(): Promise<Answer[]> } {
  const answers: Answer[] = [];
  let running = true;
  const loop = (async () => {
    const code = await echoCode();
    for (let i = 0; running; i++) {
      const created = await settled(client.containers.create({ name: `churn-${i}`, code, start: false }));
      answers.push(created);
      if (created.ok) answers.push(await settled(created.data.delete()));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return answers;
    },
  };
}
