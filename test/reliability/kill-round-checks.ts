import { readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { eventually } from "../helpers/deadline.ts";
import { type Client, docker } from "../helpers/test-server.ts";
import type { KillLedger } from "./kill-ledger.ts";

/** The rows a killed berth left behind (read from its database before the next start). */
export interface StoreSnapshot {
  rows: {
    id: string;
    owner: string;
    name: string;
    state: string;
    dockerId: string | null;
    release: number | null;
    /** When its restart policy had a restart due (0: an exit seen but not yet decided); null when none. */
    restartDueAt: number | null;
  }[];
  pending: { id: string; number: number }[];
}

/** States an operation passes through: none may be left once berth is back. */
const TRANSIENT = new Set([
  "starting",
  "stopping",
  "restarting",
  "updating",
  "removing",
  "failed",
  "missing",
]);
/** The crasher may be anywhere in its cycle (exited, being started again by its policy). */
const CRASHER_STATES = new Set(["running", "exited", "starting", "stopped"]);

export interface RoundContext {
  round: number;
  owners: { alice: Client; bob: Client };
  instanceId: string;
  dataDir: string;
  ledger: KillLedger;
  snapshot: StoreSnapshot;
  /** Wall-clock time of the restart: feed entries about the recovery come after it. */
  restartedAt: number;
}

/**
 * Every invariant of one round, after berth is back; returns how many checks
 * were made. Afterwards the ledger holds what berth shows (a cut operation's
 * outcome becomes the next round's expectation).
 */
export async function checkRound(c: RoundContext): Promise<number> {
  let checks = 0;
  const check = (actual: unknown, what: string) => ({
    toEqual(expected: unknown) {
      checks++;
      expect(actual, `round ${c.round}: ${what}`).toEqual(expected);
    },
  });
  const ownerOf = (who: string) => c.owners[who as "alice" | "bob"];
  const rows = (
    await Promise.all(Object.values(c.owners).map((o) => o.call("container:list", { limit: 500 })))
  ).flatMap((l) => l.items);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ids = rows.map((r) => r.id).sort();
  // A create the kill cut is known by its name until berth lists it.
  for (const row of rows) {
    const entry = c.ledger.of(row);
    if (entry) entry.id = row.id;
  }
  const crasher = (id: string) => c.ledger.entries.find((e) => e.id === id)?.crasher === true;

  // Store, engine and disk name the same containers; no network, directory or socket of anything else.
  const engine = await docker.listContainers({
    all: true,
    filters: { label: [`berth.instance=${c.instanceId}`] },
  });
  check(engine.map((e) => e.Labels["berth.id"]).sort(), "engine containers = rows").toEqual(ids);
  const networks = await docker.listNetworks({ filters: { label: [`berth.instance=${c.instanceId}`] } });
  check(
    networks.map((n) => n.Name),
    "no network (no container asked for one)",
  ).toEqual([]);
  check(await entries(join(c.dataDir, "code")), "code directories = rows").toEqual(ids);
  check(await entries(join(c.dataDir, "run")), "socket directories = rows").toEqual(ids);

  for (const row of rows) {
    const left = c.snapshot.rows.find((r) => r.id === row.id);
    const cut = c.ledger.entries.find((e) => e.id === row.id)?.cut;
    const what = `'${row.name}' (${row.id}, left ${left?.state ?? "unknown"}, cut ${cut ?? "none"})`;
    // No operation left half-way in the store; the engine agrees on whether it runs.
    if (crasher(row.id))
      check(CRASHER_STATES.has(row.state), `${what} in a crasher's state (${row.state})`).toEqual(true);
    else check(TRANSIENT.has(row.state) ? row.state : "settled", `${what} settled`).toEqual("settled");
    const e = engine.find((x) => x.Labels["berth.id"] === row.id);
    if (!crasher(row.id))
      check(e?.State === "running", `${what}: engine runs it iff the store says running`).toEqual(
        row.state === "running",
      );
    check(await isSocket(join(c.dataDir, "run", row.id, "berth.sock")), `${what}: socket in place`).toEqual(
      true,
    );
    // Releases: one row per directory, one active release, the pointer on it, nothing pending.
    const releases = await (await ownerOf(row.owner).containers.get(row.id)).releases();
    check(
      await entries(join(c.dataDir, "code", row.id)),
      `${what}: nothing half-written in its code directory`,
    ).toEqual(["current", "releases"]);
    const names = await entries(join(c.dataDir, "code", row.id, "releases"));
    check(
      names.filter((n) => !/^\d+$/.test(n)),
      `${what}: nothing half-written among its releases`,
    ).toEqual([]);
    const dirs = names.map(Number);
    check(
      releases.filter((r) => r.status === "pending"),
      `${what}: no pending release`,
    ).toEqual([]);
    check(
      dirs.filter((n) => !releases.some((r) => r.number === n)),
      `${what}: every release directory has its row`,
    ).toEqual([]);
    check(
      releases.filter((r) => r.status !== "failed" && !dirs.includes(r.number)).map((r) => r.number),
      `${what}: every release kept has its directory`,
    ).toEqual([]);
    check(
      releases.filter((r) => r.status === "active").map((r) => r.number),
      `${what}: the active release`,
    ).toEqual([row.release]);
    check(
      await readlink(join(c.dataDir, "code", row.id, "current")).catch(() => "none"),
      `${what}: current pointer`,
    ).toEqual(`releases/${row.release}`);
  }

  // Every acknowledged operation is still done; a cut one is finished or undone.
  for (const entry of c.ledger.entries) {
    const row = entry.id
      ? byId.get(entry.id)
      : rows.find((r) => r.owner === entry.owner && r.name === entry.name);
    if (row) entry.id = row.id;
    const what = `'${entry.name}' (last ${entry.cut ? `cut: ${entry.cut}` : "acknowledged"})`;
    if (entry.unsure) {
      // A documented error left its state to berth: only the invariants above hold.
    } else if (!entry.cut) {
      check(row ? "exists" : "gone", `${what}: acknowledged ${entry.expect.kind}`).toEqual(
        entry.expect.kind === "gone" ? "gone" : "exists",
      );
      if (row && entry.expect.kind !== "gone" && !entry.crasher) {
        check(row.state, `${what}: state`).toEqual(entry.expect.kind);
        check(row.release, `${what}: release`).toEqual(entry.expect.release);
      }
    } else if (entry.cut === "create") {
      if (row && !entry.crasher) check(row.state, `${what}: a finished create runs`).toEqual("running");
    } else if (entry.cut !== "delete") {
      check(row ? "exists" : "gone", `${what}: still there`).toEqual("exists");
    }
    // The next round expects what berth shows now.
    if (!row) entry.expect = { kind: "gone" };
    else if (row.state === "running" || entry.crasher)
      entry.expect = { kind: "running", release: row.release ?? 0 };
    else entry.expect = { kind: "stopped", release: row.release ?? 0 };
    if (row && !row.release) entry.unsure = "no release";
  }

  // Every running workload answers, with the version of its release when the clients know it.
  for (const row of rows.filter((r) => r.state === "running" && !crasher(r.id))) {
    const client = ownerOf(row.owner);
    const handle = await client.containers.get(row.id);
    const answer = await handle.request({ version: true }, { timeoutMs: 5000 });
    const entry = c.ledger.entries.find((e) => e.id === row.id);
    const known = entry && row.release != null ? entry.versions.get(row.release) : undefined;
    if (known !== undefined) check(answer, `'${row.name}': answers as release ${row.release}`).toEqual(known);
    else check(typeof answer, `'${row.name}': answers`).toEqual("string");
    if (entry && row.release != null) entry.versions.set(row.release, String(answer));
  }

  // The crasher's state moves on its own: the store must catch up with the engine (an exit seen, never lost).
  for (const row of rows.filter((r) => crasher(r.id))) {
    const handle = await ownerOf(row.owner).containers.get(row.id);
    await eventually(
      10_000,
      `round ${c.round}: '${row.name}': store and engine agree on whether it runs`,
      async () => {
        const [info, inspect] = await Promise.all([
          handle.status(),
          docker.getContainer(`berth-${row.id}`).inspect(),
        ]);
        return (
          (info.state === "running") === inspect.State.Running || `${info.state} vs ${inspect.State.Status}`
        );
      },
    );
    checks++;
  }

  // A restart policy's restart is not lost with berth: a crasher whose restart was due (or whose exit
  // was not yet decided) when berth died, or that berth last saw running, is started again. One whose
  // create failed before it was ready, or whose policy gave up, stays exited, as it would have with berth alive.
  const due = new Set(
    c.snapshot.rows.filter((r) => r.restartDueAt !== null || r.state === "running").map((r) => r.id),
  );
  for (const row of rows.filter((r) => crasher(r.id) && r.state === "exited" && due.has(r.id))) {
    const handle = await ownerOf(row.owner).containers.get(row.id);
    const before = row.restartCount;
    await eventually(15_000, `round ${c.round}: '${row.name}' restarted by its policy`, async () => {
      const info = await handle.status();
      return info.restartCount > before || info.state === "running" || `${info.state}, ${info.restartCount}`;
    });
    checks++;
  }

  // What a cut operation left in the store is finished or undone, and the feed says which.
  for (const left of c.snapshot.rows) {
    const told = await toldAfter(ownerOf(left.owner), left.id, c.restartedAt);
    const now = byId.get(left.id);
    const what = `'${left.name}' left ${left.state}${left.dockerId ? "" : " without an engine container"}`;
    if (left.state === "removing") {
      check(now ? "exists" : "gone", `${what}: delete finished`).toEqual("gone");
      check(told.includes("container.delete_interrupted"), `${what}: the feed says so`).toEqual(true);
    } else if (left.dockerId === null) {
      check(now ? "exists" : "gone", `${what}: create undone`).toEqual("gone");
      check(told.includes("container.create_interrupted"), `${what}: the feed says so`).toEqual(true);
    } else if (left.state === "updating" || c.snapshot.pending.some((p) => p.id === left.id)) {
      if (left.state === "updating")
        check(now?.state, `${what}: running again after the interrupted update`).toEqual("running");
      check(now?.release, `${what}: on its active release`).toEqual(left.release);
      check(told.includes("container.update_interrupted"), `${what}: the feed says so`).toEqual(true);
    } else if (["starting", "stopping", "restarting"].includes(left.state)) {
      const op = left.state === "starting" ? "start" : left.state === "stopping" ? "stop" : "restart";
      check(told.includes(`container.${op}_interrupted`), `${what}: the feed says what became of it`).toEqual(
        true,
      );
    }
  }
  return checks;
}

/** The actions of the feed entries about `id` since `since`. */
async function toldAfter(client: Client, id: string, since: number): Promise<string[]> {
  const { items } = await client.activity.history({ containerId: id, limit: 100 });
  return items.filter((e) => e.ts >= since).map((e) => e.action);
}

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

async function isSocket(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isSocket() === true;
}
