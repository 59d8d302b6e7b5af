import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { percentile } from "../../bench/stats.ts";
import { isConnectionLoss } from "../../packages/client/src/connection-loss.ts";
import { connect as connectClient, isBerthError } from "../../packages/client/src/index.ts";
import { type BerthProcess, secretKeyFileBeside, spawnBerth } from "../helpers/berth-process.ts";
import { eventually } from "../helpers/deadline.ts";
import { reportReliability } from "../helpers/reliability-report.ts";
import { seededRandom } from "../helpers/seeded-random.ts";
import { ADMISSION_OFF, type Client, removeInstance, TOKENS } from "../helpers/test-server.ts";
import { queryStore } from "../helpers/test-store.ts";
import { versioned } from "../helpers/versioned.ts";
import { type Entry, KillLedger, type LedgerOp } from "./kill-ledger.ts";
import { checkRound, type StoreSnapshot } from "./kill-round-checks.ts";

/**
 * berth killed with SIGKILL at a random moment while two owners' clients
 * drive a mix of operations at once — creates, starts, stops, restarts,
 * updates (good ones, slow ones whose new release takes a while to say
 * hello, ones that fail their gate and roll back), rollbacks, deletes, and a
 * workload that crashes under `restartPolicy: 'on-failure'` — then started
 * again on the same data directory. After each restart: the store, the disk
 * and the engine agree, nothing is orphaned, every running workload answers,
 * every acknowledged operation is still done, every cut one is finished or
 * undone and the feed says which (see kill-round-checks.ts).
 *
 * The moments are drawn from a seeded generator: the seed is printed, and
 * `BERTH_KILL_SEED=<seed>` replays the same choices (the machine's timing
 * still varies). `npm test`: 3 rounds, invariants only; `BERTH_SOAK=1`: 50
 * rounds, with recovery times (berth's spawn to berth answering and every
 * running workload's channel back) reported.
 */
const SOAK = process.env.BERTH_SOAK === "1";
const ROUNDS = SOAK ? 50 : 3;
/** Containers per owner at most; each owner's drivers keep creating below it. */
const PER_OWNER = SOAK ? 4 : 3;
const DRIVERS_PER_OWNER = 2;
/** The kill lands this long (ms, drawn uniformly) after the round's operations begin. */
const KILL_AFTER = { min: 200, max: SOAK ? 4_000 : 2_500 };
const SEED = Number(process.env.BERTH_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Admission out of the way, explicitly: this test is about crashes, not quotas; refusals are counted and reported. */
const ENV: Record<string, string> = {
  ...ADMISSION_OFF,
  BERTH_MAX_REQUESTS_IN_FLIGHT: "1000",
  BERTH_TOKENS: `alice:${TOKENS.alice},bob:${TOKENS.bob}`,
  BERTH_STOP_TIMEOUT_SEC: "1",
  BERTH_READY_TIMEOUT_MS: "20000",
  // The crasher's restarts come quickly, so that one is often in flight when the kill lands.
  BERTH_RESTART_BASE_DELAY_MS: "300",
  BERTH_MAX_RESTARTS: "1000",
};

/** How long the test's workloads (test/fixtures/workloads/versioned.js) wait before they reconnect. */
const RECONNECT_MS = 200;
/** The answers admission gives when it refuses (quotas, rates, the engine queue, requests in flight). */
const ADMISSION_CODES = ["QUOTA_EXCEEDED", "RATE_LIMITED", "TOO_MANY_REQUESTS"];

const HEALTH = { request: { health: true }, expect: { ok: true }, timeoutMs: 2000 };
/** Hello after this much busy work: the update's ready step lasts long enough to be cut. */
const SLOW = "const until = Date.now() + 800; while (Date.now() < until) {}";
const CRASH = "setTimeout(() => process.exit(1), 1000);";

describe(`berth killed at random moments, ${ROUNDS} rounds`, () => {
  let dataDir = "";
  let berth: BerthProcess | undefined;
  let clients: Client[] = [];

  afterAll(async () => {
    for (const c of clients) await c.close();
    await berth?.kill("SIGKILL");
    if (!dataDir) return;
    const instanceId = (await readFile(join(dataDir, "instance-id"), "utf8").catch(() => "")).trim();
    if (instanceId) await removeInstance(instanceId);
    await rm(dataDir, { recursive: true, force: true });
    await rm(secretKeyFileBeside(dataDir), { force: true });
  });

  it("comes back each time with everything acknowledged still done, cut operations finished or undone and told, nothing left over", async () => {
    process.stdout.write(`berth kill rounds: seed ${SEED} (BERTH_KILL_SEED=${SEED} replays it)\n`);
    const began = performance.now();
    const random = seededRandom(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    dataDir = await mkdtemp(join(tmpdir(), "bk-"));
    const env = { ...ENV, BERTH_DATA_DIR: dataDir };
    const ledger = new KillLedger();
    const recoveries: number[] = [];
    /** Spawn → berth listening (it listens once reconciled): the part of the recovery that is berth's own. */
    const answering: number[] = [];
    let checks = 0;
    let named = 0;

    const connectAll = async (url: string) => {
      clients = await Promise.all(
        (["alice", "bob"] as const).map((who) =>
          connectClient(url, { token: TOKENS[who], reconnect: false }),
        ),
      );
      return { alice: clients[0] as Client, bob: clients[1] as Client };
    };

    berth = await spawnBerth(env);
    let owners = await connectAll(berth.url);
    /** On a failed round, berth's own warnings and errors say why (what recovery could not do). */
    const explain =
      (round: number) =>
      (err: unknown): never => {
        const said = (berth?.lines ?? []).filter((l) => /"level":(40|50|60)/.test(l));
        process.stderr.write(`round ${round}: berth said:\n${said.join("\n")}\n`);
        throw err;
      };

    for (let round = 0; round < ROUNDS; round++) {
      let killed = false;
      /** One operation on `entry` (or a create), its answer written to the ledger unless the kill cut it. */
      const operate = async (entry: Entry, op: LedgerOp, run: () => Promise<void>) => {
        entry.busy = op;
        try {
          await run();
          ledger.answers++;
        } catch (err) {
          if (killed && isConnectionLoss(err)) {
            entry.cut = op;
            return;
          }
          ledger.answers++;
          if (!isBerthError(err)) throw err;
          ledger.refused(err.code);
          if (err.code === "UPDATE_ROLLED_BACK") return; // rolled back, as answered: the expectation stands
          entry.unsure = err.code;
          const id = (err.details as { containerId?: string } | undefined)?.containerId;
          if (op === "create" && typeof id === "string") entry.id = id;
        } finally {
          entry.busy = undefined;
        }
      };

      const drive = async (owner: "alice" | "bob") => {
        const client = owners[owner];
        while (!killed) {
          const live = ledger.live(owner).filter((e) => !e.busy && !e.unsure && e.id);
          const canCreate = ledger.live(owner).length < PER_OWNER;
          const choices: LedgerOp[] = canCreate ? ["create"] : [];
          if (live.length > 0)
            choices.push("start", "stop", "restart", "update", "update", "rollback", "delete");
          if (choices.length === 0) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          const op = pick(choices);
          if (op === "create") {
            const crasher = random() < 0.25;
            const name = `k${round}-${named++}`;
            const version = `${name}@1`;
            const entry: Entry = {
              owner,
              name,
              crasher,
              expect: { kind: "gone" },
              versions: new Map([[1, version]]),
            };
            ledger.entries.push(entry);
            await operate(entry, op, async () => {
              const made = await client.containers.create({
                name,
                code: versioned(version, crasher ? { prelude: CRASH } : {}),
                ...(crasher ? { restartPolicy: "on-failure" as const } : {}),
              });
              entry.id = made.id;
              entry.expect = { kind: "running", release: 1 };
            });
            continue;
          }
          const entry = pick(live);
          // Claimed before any await: one operation at a time per container, or the ledger could not tell.
          entry.busy = op;
          const handle = await client.containers.get(entry.id as string).catch(() => undefined);
          if (!handle) {
            entry.busy = undefined;
            break; // only the kill takes a container away from its own owner's driver
          }
          const release = entry.expect.kind === "gone" ? 0 : entry.expect.release;
          switch (op) {
            case "start":
              await operate(entry, op, async () => {
                await handle.start();
                entry.expect = { kind: "running", release };
              });
              break;
            case "stop":
              await operate(entry, op, async () => {
                await handle.stop();
                entry.expect = { kind: "stopped", release };
              });
              break;
            case "restart":
              await operate(entry, op, async () => {
                await handle.restart();
                entry.expect = { kind: "running", release };
              });
              break;
            case "delete":
              await operate(entry, op, async () => {
                await handle.delete();
                entry.expect = { kind: "gone" };
              });
              break;
            case "update": {
              if (entry.crasher) break; // its code is what makes it crash; it keeps it
              const kind = pick(["good", "slow", "unhealthy", "exits"] as const);
              const version = `${entry.name}@${kind}-${round}-${named++}`;
              const code =
                kind === "slow"
                  ? versioned(version, { prelude: SLOW })
                  : kind === "unhealthy"
                    ? versioned(version, { healthy: false })
                    : kind === "exits"
                      ? versioned(version, { prelude: "process.exit(3);" })
                      : versioned(version);
              await operate(entry, op, async () => {
                try {
                  const result = await handle.update(
                    code,
                    kind === "unhealthy" ? { healthCheck: HEALTH } : {},
                  );
                  entry.versions.set(result.release, version);
                  entry.expect = { kind: "running", release: result.release };
                } catch (err) {
                  // Rolled back as answered: running on the release it had.
                  if (isBerthError(err) && err.code === "UPDATE_ROLLED_BACK")
                    entry.expect = { kind: "running", release };
                  throw err;
                }
              });
              break;
            }
            case "rollback": {
              if (entry.crasher) break;
              const releases = await handle.releases().catch(() => []);
              const target = releases.find((r) => r.status === "previous" || r.status === "rolled-back");
              if (!target || !entry.versions.has(target.number)) break;
              await operate(entry, op, async () => {
                const result = await handle.rollback({ release: target.number });
                entry.expect = { kind: "running", release: result.release };
              });
              break;
            }
          }
          entry.busy = undefined;
        }
      };

      // The round: every driver runs until the kill, which lands at a moment drawn from the seed.
      const killAfter = KILL_AFTER.min + random() * (KILL_AFTER.max - KILL_AFTER.min);
      const drivers = (["alice", "bob"] as const).flatMap((owner) =>
        Array.from({ length: DRIVERS_PER_OWNER }, () => drive(owner)),
      );
      await new Promise((r) => setTimeout(r, killAfter));
      killed = true;
      await berth.kill("SIGKILL");
      await Promise.all(drivers);
      for (const c of clients) await c.close();

      // What the next berth finds: the rows as the killed one left them.
      const snapshot = await readStore(dataDir);

      const restartedAt = Date.now();
      const spawnedAt = performance.now();
      berth = await spawnBerth(env);
      answering.push(performance.now() - spawnedAt);
      owners = await connectAll(berth.url);
      // Back: berth answers (it listens only once reconciled) and every running workload's channel is up.
      const back = eventually(
        30_000,
        `round ${round}: every running workload's channel back`,
        async () => {
          const lists = await Promise.all(
            Object.values(owners).map((o) => o.call("container:list", { limit: 500 })),
          );
          const down = lists
            .flatMap((l) => l.items)
            .filter((c) => c.state === "running" && !c.channel?.connected)
            .filter((c) => !ledger.of(c)?.crasher);
          return (
            down.length === 0 ||
            `not back: ${down.map((c) => `${c.name} (left ${snapshot.rows.find((r) => r.id === c.id)?.state ?? "unknown"}, cut ${ledger.of(c)?.cut ?? "none"}, ${JSON.stringify(c.channel)})`).join(", ")}`
          );
        },
        20,
      );
      await back.catch(explain(round));
      recoveries.push(performance.now() - spawnedAt);

      checks += await checkRound({
        round,
        owners,
        instanceId: (await readFile(join(dataDir, "instance-id"), "utf8")).trim(),
        dataDir,
        ledger,
        snapshot,
        restartedAt,
      }).catch(explain(round));
      ledger.nextRound();
    }

    const refused = [...ledger.errors.values()].reduce((a, b) => a + b, 0);
    const p50 = percentile(recoveries, 50);
    const p99 = percentile(recoveries, 99);
    const summary = `${ROUNDS} rounds, ${checks} invariant checks, recovery p50 ${(p50 / 1000).toFixed(2)} s / p99 ${(p99 / 1000).toFixed(2)} s, ${ledger.answers} answers (${[...ledger.errors].map(([c, n]) => `${c} ${n}`).join(", ") || "no errors"})`;
    process.stdout.write(`berth kill rounds (seed ${SEED}): ${summary}\n`);
    // Admission was out of the way: nothing may be refused for a quota, a rate, a full engine queue
    // (RATE_LIMITED too) or too many requests in flight.
    const admission = ADMISSION_CODES.reduce((n, code) => n + (ledger.errors.get(code) ?? 0), 0);
    expect(admission, "answers refused by admission").toBe(0);
    await reportReliability(import.meta.filename, {
      id: "berth-kill-rounds",
      test: "berth killed with SIGKILL at random moments",
      did: `${ROUNDS} rounds (seed ${SEED}) in ${Math.round((performance.now() - began) / 1000)} s, 2 owners × ${DRIVERS_PER_OWNER} clients, up to ${2 * PER_OWNER} containers: creates, starts, stops, restarts, updates (good, slow, failing their gate), rollbacks, deletes, an on-failure crasher`,
      measured: `recovery (spawn → berth answering and every running workload's channel back) p50 ${(p50 / 1000).toFixed(2)} s, p99 ${(p99 / 1000).toFixed(2)} s, of which berth answering (spawn → listening, reconciled) p50 ${(percentile(answering, 50) / 1000).toFixed(2)} s, p99 ${(percentile(answering, 99) / 1000).toFixed(2)} s; ${recoveries.filter((ms) => ms <= 2_000 + RECONNECT_MS).length} of ${ROUNDS} rounds within 2 s + the workloads' reconnect back-off (${RECONNECT_MS} ms: the test's workloads retry every 200 ms; the SDK's back-off starts at 100 ms, ×2 with jitter, at most 5 s); ${ledger.answers} answers, ${((100 * admission) / Math.max(1, ledger.answers)).toFixed(1)} % refused by admission (${refused} documented errors in all)`,
      invariants: `${checks} checks: store, engine and disk agree (rows, containers, networks, code and socket directories, releases and the current pointer); acknowledged operations still done; cut ones finished or undone and told in the feed; every running workload answers`,
    });
  }, 1_800_000);
});

/** The rows a killed berth left, read straight from its database before the next one starts. */
async function readStore(dataDir: string): Promise<StoreSnapshot> {
  const rows = await queryStore<StoreSnapshot["rows"][number]>(
    dataDir,
    `SELECT id, owner, name, state, docker_id AS "dockerId", release, restart_due_at AS "restartDueAt" FROM containers`,
  );
  const pending = await queryStore<StoreSnapshot["pending"][number]>(
    dataDir,
    "SELECT container_id AS id, number FROM releases WHERE status = 'pending'",
  );
  return { rows, pending };
}
