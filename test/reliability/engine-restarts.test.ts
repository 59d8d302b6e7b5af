import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { type ActivityEntry, ERROR_CODES, type WireError } from "#protocol";
import { percentile } from "../../bench/stats.ts";
import type { Container } from "../../packages/client/src/index.ts";
import { seriesValue } from "../../src/metrics/testing/series-value.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { nextActivity } from "../helpers/events.ts";
import { agreeing, holdings, removeInstanceFrom } from "../helpers/instance-holdings.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { type PrivateEngine, startPrivateEngine } from "../helpers/private-engine.ts";
import { reportReliability } from "../helpers/reliability-report.ts";
import { settled } from "../helpers/settled.ts";
import { type Client, echoCode, startTestServer, type TestServer, TOKENS } from "../helpers/test-server.ts";

/**
 * The Docker engine restarted under a running berth, round after round,
 * while two owners create, delete, stop, start and talk to their workloads.
 * Always a private dockerd (stopping the shared one would take every other
 * test's containers with it), in three ways: stopped (SIGTERM) without
 * live-restore, which stops every container; stopped with live-restore,
 * which leaves them running; and killed (SIGKILL), which stops nothing on its
 * way out but, started again without live-restore, stops what still runs.
 * After every round: berth answered only ok or documented errors (and while
 * the engine was away, DOCKER_UNAVAILABLE for what needs it), resynced once,
 * brought back every workload that was running (or kept it running), left
 * stopped what its owner had stopped, and its store, the engine and the disk
 * agree. BERTH_SOAK=1: 10 rounds of 10 s outages per mode, measured.
 */

const SOAK = process.env.BERTH_SOAK === "1";
const ROUNDS = SOAK ? 10 : 2;
/** How long the engine stays away: the 10 s in the soak run; short in `npm test`. */
const OUTAGE_MS = SOAK ? 10_000 : 1_500;
/** berth learns of an outage from a failed call or its 5 s probe; of the return from a probe every second. */
const NOTICE_MS = 20_000;
/** A workload brought back starts, then reconnects to its socket (the echo fixture retries every 200 ms). */
const RECOVER_MS = 30_000;
/** The whole run of one mode: its rounds, each an outage and up to a minute of checks. */
const TEST_TIMEOUT_MS = SOAK ? ROUNDS * (OUTAGE_MS + 90_000) : 120_000;

interface Mode {
  id: string;
  title: string;
  liveRestore: boolean;
  how: "stop" | "kill";
}

const MODES: readonly Mode[] = [
  {
    id: "engine-restarts-no-live-restore",
    title: "Engine stopped (SIGTERM) and started again, without live-restore",
    liveRestore: false,
    how: "stop",
  },
  {
    id: "engine-restarts-live-restore",
    title: "Engine stopped (SIGTERM) and started again, with live-restore",
    liveRestore: true,
    how: "stop",
  },
  {
    id: "engine-sigkill",
    title: "Engine killed (SIGKILL) and started again, without live-restore",
    liveRestore: false,
    how: "kill",
  },
];

/** Where the engine is in a round, as the test makes it: each answer is judged by when it was asked. */
type Phase = "up" | "going" | "down" | "coming";
type Kind = "lifecycle" | "request" | "read" | "health";

/** One answer, without its data: thousands are kept. */
interface Answer {
  kind: Kind;
  /** The phase when it was asked, and when the answer came. */
  asked: Phase;
  answered: Phase;
  res: { ok: true } | { ok: false; error: WireError };
}

if (NEEDS_ROOT) console.warn(`engine-restarts tests skipped: ${NEEDS_ROOT}`);

for (const mode of MODES) {
  describe.skipIf(NEEDS_ROOT)(mode.title, () => {
    let engine: PrivateEngine;
    let server: TestServer;
    let owners: {
      name: "alice" | "bob";
      client: Client;
      steady: Container[];
      parked: Container;
      flapper: Container;
    }[];
    let admin: Client;
    const feed: ActivityEntry[] = [];
    const recoveries: number[] = [];
    const answers: Answer[] = [];
    let phase: Phase = "up";
    let started = 0;
    let stopTraffic: () => Promise<unknown> = async () => {};
    const resyncs = resyncCounter();

    beforeAll(async () => {
      started = performance.now();
      engine = await startPrivateEngine({ liveRestore: mode.liveRestore });
      server = await startTestServer({ BERTH_DOCKER_SOCKET: engine.socketPath });
      admin = await server.connect("admin");
      const code = await echoCode();
      owners = await Promise.all(
        (["alice", "bob"] as const).map(async (name) => {
          const client = await server.connect(name);
          client.on("activity_log", (e) => {
            // Entries for everyone reach both owners: one copy is enough.
            if (name === "alice" || e.containerId !== undefined) feed.push(e);
          });
          // One workload per restart policy berth knows: the engine's going away is no crash, and no
          // policy decides whether it comes back — berth brings them all back.
          const steady = await Promise.all(
            (["no", "always", "on-failure"] as const).map((restartPolicy) =>
              client.containers.create({ name: `steady-${restartPolicy}`, code, restartPolicy }),
            ),
          );
          const parked = await client.containers.create({ name: "parked", code });
          await parked.stop();
          const flapper = await client.containers.create({ name: "flapper", code, restartPolicy: "no" });
          return { name, client, steady, parked, flapper };
        }),
      );
    });

    afterAll(async () => {
      // A round that failed half-way leaves its traffic running: it stops before anything goes.
      await stopTraffic().catch(() => {});
      if (engine && !engine.running) await engine.start().catch(() => {});
      await server?.close();
      if (server && engine?.running) await removeInstanceFrom(engine.docker, server.berth.instanceId);
      await engine?.destroy();
    });

    beforeEach(() => {
      onTestFailed(async () => {
        console.error(`the private dockerd's last lines:\n${await engine.logTail()}`);
        // berth's own warnings and errors: why a workload did not come back is said there.
        const lines = server
          .logs()
          .split("\n")
          .filter((l) => /"level":(40|50|60)/.test(l));
        console.error(`berth's warnings and errors:\n${lines.slice(-80).join("\n")}`);
      });
    });

    it(`survives ${ROUNDS} rounds of the engine going away${mode.how === "kill" ? " by SIGKILL" : ""} and coming back`, {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      for (let round = 1; round <= ROUNDS; round++) {
        const steady = owners.flatMap((o) => o.steady);
        const startedAt = new Map<string, string>();
        for (const c of steady) startedAt.set(c.id, await engineStartedAt(engine, c.id));
        const feedFrom = feed.length;
        const resyncsBefore = resyncs(server);
        const reconnectsBefore = await reconnects(server);

        const traffic = owners.map((o) => keepBusy(o, server.url, () => phase, answers, round));
        stopTraffic = () => Promise.all(traffic.map((t) => t.stop()));
        // Every loop has answered at least once with the engine up: the outage cuts into work under way.
        await eventually(10_000, "traffic under way", () => traffic.every((t) => t.answered() > 0));

        const down = nextActivity(owners[0]!.client, (e) => e.action === "engine.unavailable");
        phase = "going";
        await (mode.how === "kill" ? engine.kill() : engine.stop());
        await within(NOTICE_MS, `round ${round}: the engine.unavailable entry`, down);
        phase = "down";
        // The outage itself: nothing announces its end but the clock.
        await delay(OUTAGE_MS);

        const up = nextActivity(owners[0]!.client, (e) => e.action === "engine.available");
        phase = "coming";
        await engine.start();
        const answering = performance.now();
        // Every workload's channel is back: a request to each answers.
        await Promise.all(
          steady.map((c) =>
            eventually(
              RECOVER_MS,
              `round ${round}: ${c.name} answers a request`,
              async () => {
                const res = await settled(c.request({ round }, { timeoutMs: 1_000 }));
                // Said when it fails: the last refusal.
                return res.ok || res.error.code;
              },
              20,
            ),
          ),
        );
        recoveries.push(performance.now() - answering);
        await within(NOTICE_MS, `round ${round}: the engine.available entry`, up);
        phase = "up";
        await stopTraffic();

        // Resynced once, on the event stream's return.
        await eventually(NOTICE_MS, `round ${round}: one resync`, async () => {
          const n = resyncs(server) - resyncsBefore;
          return n >= 1 || `${n} resyncs`;
        });
        expect(resyncs(server) - resyncsBefore, `round ${round}: resyncs`).toBe(1);
        expect((await reconnects(server)) - reconnectsBefore, `round ${round}: event stream reconnects`).toBe(
          1,
        );

        const inRound = feed.slice(feedFrom);
        for (const c of steady) {
          const said = inRound.filter((e) => e.containerId === c.id);
          const truth = await engine.docker.getContainer(`berth-${c.id}`).inspect();
          expect(truth.State.Status, `round ${round}: ${c.name} in the engine`).toBe("running");
          expect((await c.status()).state, `round ${round}: ${c.name} as berth reports it`).toBe("running");
          if (mode.liveRestore) {
            // Never stopped: the same process, and no exit anywhere in the feed.
            expect(truth.State.StartedAt, `round ${round}: ${c.name} started at`).toBe(startedAt.get(c.id));
            expect(said.map((e) => e.action)).toEqual([]);
          } else {
            expect(truth.State.StartedAt > (startedAt.get(c.id) ?? "")).toBe(true);
            const back = said.filter((e) => e.action === "container.engine_restarted");
            expect(back, `round ${round}: ${c.name} brought back, once, and said so`).toHaveLength(1);
            expect(back[0]!.message).toMatch(/after the Docker engine came back/);
            // Not a crash: no restart policy counted it, nor was it restarted twice.
            expect(said.map((e) => e.action)).not.toContain("container.crash_restarted");
            expect(said.map((e) => e.action)).not.toContain("container.restart_failed");
          }
        }
        for (const o of owners) {
          // Stopped by its owner before the outage: it stays stopped.
          expect((await o.parked.status()).state, `round ${round}: ${o.name}'s parked`).toBe("stopped");
          const parked = await engine.docker.getContainer(`berth-${o.parked.id}`).inspect();
          expect(parked.State.Running).toBe(false);
        }
        await settleRound(
          server,
          engine,
          admin,
          owners,
          round,
          traffic.map((t) => t.flipCutOff()),
          traffic.map((t) => t.flips),
        );
      }
      judgeAnswers(answers, mode);

      const lifecycleDown = answers.filter(
        (a) => a.kind === "lifecycle" && a.asked === "down" && a.answered === "down",
      );
      const refusedDown = lifecycleDown.filter((a) => !a.res.ok);
      const refused = answers.filter((a) => !a.res.ok);
      const ms = (v: number) => `${Math.round(v)} ms`;
      await reportReliability(import.meta.filename, {
        id: mode.id,
        test: mode.title,
        did: `${ROUNDS} rounds, ${OUTAGE_MS / 1000} s outage each; 2 owners, 10 containers (3 running per owner, 1 stopped, 1 stopped and started in a loop), creates, deletes, requests, status and list throughout; ${Math.round((performance.now() - started) / 1000)} s`,
        measured: `engine answering → every workload answering a request: p50 ${ms(percentile(recoveries, 50))}, p99 ${ms(percentile(recoveries, 99))}, max ${ms(Math.max(...recoveries))}; ${answers.length} answers, ${pct(refused.length, answers.length)} refused (${codes(refused)}); lifecycle operations asked and answered while the engine was away: ${lifecycleDown.length}, ${refusedDown.length} refused, all DOCKER_UNAVAILABLE`,
        invariants: `berth stays up; every answer ok or a documented error (never INTERNAL), DOCKER_UNAVAILABLE (retryable) for what needs the engine while it is away; one resync and one event-stream reconnect per round; ${mode.liveRestore ? "running workloads never stop (same StartedAt, nothing in the feed)" : "every running workload brought back whatever its restart policy (no, always, on-failure), once, and the feed says so"}; a container stopped before the outage stays stopped; store, engine and disk agree`,
      });
    });
  });
}

/** Read after each round: everything settles, leftovers of the churn go, and store, engine and disk agree. */
async function settleRound(
  server: TestServer,
  engine: PrivateEngine,
  admin: Client,
  owners: { client: Client; steady: Container[]; parked: Container; flapper: Container }[],
  round: number,
  flipCutOff: readonly boolean[],
  flips: readonly string[][] = [],
): Promise<void> {
  for (const [i, o] of owners.entries()) {
    // Stopped and started all round long: whatever its last answer made it, berth and the engine agree.
    await eventually(NOTICE_MS, `round ${round}: the flapper's state agrees with the engine`, async () => {
      const { state } = await o.flapper.status();
      const truth = await engine.docker.getContainer(`berth-${o.flapper.id}`).inspect();
      const agree =
        (state === "running") === truth.State.Running &&
        ["running", "stopped", "failed", "exited"].includes(state);
      // Exited means it was not brought back: a workload running when the engine went must be, unless
      // its owner's stop or start was under way then and failed (the owner was told; berth does not guess).
      const allowed = state !== "exited" || flipCutOff[i] === true;
      return (
        (agree && allowed) ||
        `berth ${state}, engine ${JSON.stringify(truth.State)}, stop or start cut off: ${flipCutOff[i]}, flips: ${flips[i]?.slice(-6).join("; ")}`
      );
    });
    // Creates whose answer came back ok are deleted by the loop; what the outage left is deleted here.
    const { items } = await o.client.containers.list().page({ limit: 500 });
    for (const c of items.filter((i) => i.name.startsWith("churn-"))) {
      await eventually(NOTICE_MS, `round ${round}: ${c.name} deleted`, async () => {
        // The reconciliation after the engine's return may finish a delete the outage cut short first.
        const found = await settled(o.client.containers.get(c.id));
        if (!found.ok) return found.error.code === "NOT_FOUND" || JSON.stringify(found.error);
        const res = await settled(found.data.delete());
        return res.ok || JSON.stringify(res.error);
      });
    }
  }
  const kept = owners.flatMap((o) => [...o.steady, o.parked, o.flapper].map((c) => c.id));
  await eventually(NOTICE_MS, `round ${round}: rows, engine and directories agree`, async () => {
    const now = await holdings(server, admin, engine.docker);
    return JSON.stringify(now) === JSON.stringify(agreeing(kept)) || JSON.stringify(now);
  });
}

/** Every answer was ok or a documented error; while the engine was away, what needed it said DOCKER_UNAVAILABLE. */
function judgeAnswers(answers: Answer[], mode: Mode): void {
  expect(answers.length).toBeGreaterThan(0);
  for (const a of answers) {
    if (a.res.ok) continue;
    const { code, retryable } = a.res.error;
    expect(Object.keys(ERROR_CODES), `${a.kind}: ${JSON.stringify(a.res.error)}`).toContain(code);
    expect(code).not.toBe("INTERNAL");
    if (a.kind === "read") throw new Error(`a read failed: ${JSON.stringify(a.res.error)}`);
    if (a.kind === "lifecycle" && a.asked === "down" && a.answered === "down") {
      expect(a.res.error, "a lifecycle operation while the engine was away").toMatchObject({
        code: "DOCKER_UNAVAILABLE",
        retryable: true,
      });
    }
    if (a.kind === "request") {
      // With live-restore the workloads run on: only their channel's own codes, if any.
      expect(["CHANNEL_NOT_CONNECTED", "CHANNEL_DISCONNECTED", "CHANNEL_TIMEOUT"]).toContain(code);
      expect(retryable).toBe(true);
    }
  }
  if (mode.liveRestore) {
    const requestsDown = answers.filter((a) => a.kind === "request" && a.asked === "down");
    expect(requestsDown.filter((a) => !a.res.ok)).toEqual([]);
  }
}

/**
 * An owner's work while the engine comes and goes: creates and deletes
 * (never started: a start cut off by the engine's shutdown can leave 20.10
 * with a container it cannot remove — the engine's fault, not berth's), stops
 * and starts of one container, requests to the running ones, status, list
 * and /healthz. Each answer is kept with the phase it was asked and answered in.
 */
function keepBusy(
  owner: { name: string; client: Client; steady: Container[]; flapper: Container },
  url: string,
  phase: () => Phase,
  answers: Answer[],
  round: number,
): { answered(): number; flipCutOff(): boolean; flips: string[]; stop(): Promise<void> } {
  const flips: string[] = [];
  let running = true;
  let flipCutOff = false;
  const counts = [0, 0, 0];
  const record = async (kind: Kind, i: number, op: Promise<unknown>) => {
    const asked = phase();
    const res = await settled(op);
    answers.push({ kind, asked, answered: phase(), res: res.ok ? { ok: true } : res });
    counts[i]!++;
    // Refused at once while the engine is away: paced, so that the loop does not spin.
    if (!res.ok) await delay(50);
    return res;
  };
  const lifecycle = (async () => {
    const code = await echoCode();
    for (let i = 0; running; i++) {
      const created = await record(
        "lifecycle",
        0,
        owner.client.containers.create(
          { name: `churn-${round}-${i}`, code, start: false },
          { timeoutMs: 60_000 },
        ),
      );
      if (created.ok) await record("lifecycle", 0, (created.data as Container).delete({ timeoutMs: 60_000 }));
      const asked = phase();
      const flipped = await record(
        "lifecycle",
        0,
        i % 2 === 0 ? owner.flapper.stop({ timeoutMs: 60_000 }) : owner.flapper.start({ timeoutMs: 60_000 }),
      );
      // One refused while the engine was away never reached it; one that failed as it went or came back
      // may have half-happened (a start that the engine's shutdown undid: the workload ran for a moment).
      if (!flipped.ok && asked !== "down") flipCutOff = true;
      flips.push(
        `${i % 2 === 0 ? "stop" : "start"} ${asked}→${phase()} ${flipped.ok ? "ok" : flipped.error.code}`,
      );
    }
  })();
  const requests = (async () => {
    for (let i = 0; running; i++) {
      const target = owner.steady[i % owner.steady.length]!;
      await record("request", 1, target.request({ i }, { timeoutMs: 1_000 }));
      await delay(20);
    }
  })();
  const reads = (async () => {
    while (running) {
      await record("read", 2, owner.steady[0]!.status({ timeoutMs: 10_000 }));
      await record("read", 2, owner.client.containers.list().page({ timeoutMs: 10_000 }));
      // berth itself stays up: /healthz says ok (200) or degraded with the reason (503), never nothing.
      await record("health", 2, healthz(url));
      await delay(50);
    }
  })();
  return {
    answered: () => Math.min(...counts),
    flipCutOff: () => flipCutOff,
    flips,
    async stop() {
      running = false;
      await Promise.all([lifecycle, requests, reads]);
    },
  };
}

async function healthz(url: string): Promise<unknown> {
  const res = await fetch(`${url}/healthz`);
  const body = (await res.json()) as { status: string };
  const expected = { 200: "ok", 503: "degraded" }[res.status as 200 | 503];
  if (body.status !== expected) throw new Error(`/healthz answered ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function engineStartedAt(engine: PrivateEngine, id: string): Promise<string> {
  return (await engine.docker.getContainer(`berth-${id}`).inspect()).State.StartedAt;
}

/**
 * Counts the system log's resyncs on the event stream's return (each
 * reconnect is followed by one), reading only what was logged since the last
 * count: the log of a soak run is long.
 */
function resyncCounter(): (server: TestServer) => number {
  let read = 0;
  let n = 0;
  return (server) => {
    const text = server.logs();
    const end = text.lastIndexOf("\n") + 1;
    for (const line of text.slice(read, end).split("\n")) {
      if (!line.includes("resyncing with the engine")) continue;
      const entry = JSON.parse(line) as { msg?: string; reason?: string };
      if (entry.msg === "resyncing with the engine" && entry.reason === "event stream reconnected") n++;
    }
    read = Math.max(read, end);
    return n;
  };
}

async function reconnects(server: TestServer): Promise<number> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.admin}` } });
  return seriesValue(await res.text(), "berth_engine_event_stream_reconnects_total") ?? 0;
}

function pct(part: number, whole: number): string {
  return whole === 0 ? "0 %" : `${((100 * part) / whole).toFixed(1)} %`;
}

/** "CODE × n, …" of the refused answers. */
function codes(refused: Answer[]): string {
  const by = new Map<string, number>();
  for (const a of refused) if (!a.res.ok) by.set(a.res.error.code, (by.get(a.res.error.code) ?? 0) + 1);
  return [...by].map(([code, n]) => `${code} × ${n}`).join(", ") || "none";
}
