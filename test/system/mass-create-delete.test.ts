import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { percentile } from "../../bench/stats.ts";
import { reportReliability } from "../helpers/reliability-report.ts";
import {
  ADMISSION_OFF,
  type Client,
  call,
  docker,
  echoCode,
  ok,
  useTestServer,
} from "../helpers/test-server.ts";

/**
 * Many creates at once, then as many deletes at once, round after round:
 * every one succeeds (admission is set out of the way, explicitly, and the
 * share refused is reported — it must be 0), and after each round the store,
 * the engine and the disk agree — every container made runs, and once deleted
 * nothing of it is left (engine containers and networks of this instance,
 * code and socket directories, rows).
 *
 * `npm test` runs 2 rounds of 20; `BERTH_SOAK=1` (`npm run test:soak`) runs
 * 10 rounds of 50.
 */
const SOAK = process.env.BERTH_SOAK === "1";
const ROUNDS = SOAK ? 10 : 2;
const PER_ROUND = SOAK ? 50 : 20;

/** Admission out of the way, named here so that this test does not rely on the helper's defaults. */
const UNLIMITED: Record<string, string> = {
  ...ADMISSION_OFF,
  BERTH_MAX_REQUESTS_IN_FLIGHT: "1000",
  // A start waits for the workload's hello; with 50 starting at once on two cores, that is slower than alone.
  BERTH_READY_TIMEOUT_MS: "60000",
};

describe(`${PER_ROUND} concurrent creates then ${PER_ROUND} concurrent deletes, ${ROUNDS} rounds`, () => {
  const server = useTestServer(UNLIMITED);

  async function engineContainers(): Promise<{ id: string; running: boolean }[]> {
    const list = await docker.listContainers({
      all: true,
      filters: { label: [`berth.instance=${server.berth.instanceId}`] },
    });
    return list.map((c) => ({ id: c.Labels["berth.id"] ?? c.Id, running: c.State === "running" }));
  }

  async function engineNetworks(): Promise<string[]> {
    const list = await docker.listNetworks({
      filters: { label: [`berth.instance=${server.berth.instanceId}`] },
    });
    return list.map((n) => n.Name).sort();
  }

  async function entries(dir: string): Promise<string[]> {
    return (await readdir(dir).catch(() => [] as string[])).sort();
  }

  /** Rows across both owners, with their states. */
  async function rows(owners: Client[]): Promise<{ id: string; state: string }[]> {
    const lists = await Promise.all(owners.map((o) => ok(o, "container:list", { limit: 500 })));
    return lists.flatMap((l) => l.items.map((c) => ({ id: c.id, state: c.state })));
  }

  it("makes every container, runs each, and leaves nothing behind once they are deleted", async () => {
    const owners = [await server.connect("alice"), await server.connect("bob")];
    const code = await echoCode();
    const networksBefore = await engineNetworks();
    let answers = 0;
    let refused = 0;
    const createRounds: number[] = [];
    const deleteRounds: number[] = [];
    const refusals: string[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      let started = performance.now();
      const creates = await Promise.all(
        Array.from({ length: PER_ROUND }, (_, i) =>
          call(owners[i % owners.length] as Client, "container:create", { name: `mass-${round}-${i}`, code }),
        ),
      );
      createRounds.push(performance.now() - started);
      answers += creates.length;
      const made: string[] = [];
      for (const res of creates) {
        if (res.ok) made.push(res.data.id);
        else {
          refused++;
          refusals.push(JSON.stringify(res.error));
        }
      }
      expect(refusals, `round ${round}: creates refused`).toEqual([]);

      // Every container made runs, in the store and in the engine, and has its directories.
      const sorted = [...made].sort();
      const stored = await rows(owners);
      expect(stored.map((r) => r.id).sort()).toEqual(sorted);
      expect(stored.filter((r) => r.state !== "running")).toEqual([]);
      const engine = await engineContainers();
      expect(engine.map((c) => c.id).sort()).toEqual(sorted);
      expect(engine.filter((c) => !c.running)).toEqual([]);
      expect(await entries(join(server.berth.config.dataDir, "code"))).toEqual(sorted);
      expect(await entries(server.berth.config.runDir)).toEqual(sorted);

      started = performance.now();
      const deletes = await Promise.all(
        made.map((id, i) => call(owners[i % owners.length] as Client, "container:delete", { id })),
      );
      deleteRounds.push(performance.now() - started);
      answers += deletes.length;
      for (const res of deletes) {
        if (!res.ok) {
          refused++;
          refusals.push(JSON.stringify(res.error));
        }
      }
      expect(refusals, `round ${round}: deletes refused`).toEqual([]);

      // Nothing left anywhere, and berth has nothing under way.
      expect(await rows(owners)).toEqual([]);
      expect(await engineContainers()).toEqual([]);
      expect(await engineNetworks()).toEqual(networksBefore);
      expect(await entries(join(server.berth.config.dataDir, "code"))).toEqual([]);
      expect(await entries(server.berth.config.runDir)).toEqual([]);
      expect(server.berth.debugCounts()).toMatchObject({ operationsUnderWay: 0, workloadCallsInFlight: 0 });
    }

    // The share refused, for the record (a soak run's figures): admission was out of the way, so none.
    process.stdout.write(
      `mass create/delete: ${ROUNDS} rounds of ${PER_ROUND}, ${answers} answers, ${refused} refused (${((100 * refused) / answers).toFixed(1)}%)\n`,
    );
    expect(refused).toBe(0);
    for (const o of owners) void o.close();
    const seconds = (ms: number[]) =>
      `p50 ${(percentile(ms, 50) / 1000).toFixed(1)} s, max ${(Math.max(...ms) / 1000).toFixed(1)} s`;
    await reportReliability(import.meta.filename, {
      id: "mass-create-delete",
      test: `${PER_ROUND} concurrent creates, then ${PER_ROUND} concurrent deletes`,
      did: `${ROUNDS} rounds × ${PER_ROUND} containers (with code, each waiting for its workload's hello), two owners, admission out of the way`,
      measured: `${answers} answers, ${refused} refused (${((100 * refused) / answers).toFixed(1)} %); a round's ${PER_ROUND} creates: ${seconds(createRounds)}; its ${PER_ROUND} deletes: ${seconds(deleteRounds)}`,
      invariants:
        "after the creates: every row running, every engine container running, one code and one socket directory each; after the deletes: no row, engine container, network, code or socket directory left; no operation or workload call under way",
    });
  }, 600_000);
});
