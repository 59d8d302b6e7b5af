import { BERTH_NODE_FLAGS } from "./berth-child.ts";
import { pump, startSubject } from "./channel-memory.ts";
import { Cleanup } from "./cleanup.ts";
import { CLK_TCK, cpuTicks } from "./proc-stat.ts";
import { percentile } from "./stats.ts";

/**
 * Metrics: what Prometheus metrics cost berth, as its CPU time per channel
 * request. Each round starts two fresh berth processes in turn (src/main.ts,
 * npm start's flags), one with metrics on and one with BERTH_METRICS=false,
 * each with an SDK echo container made through it, and has each carry the
 * full path (socket.io-client → `container:request` → workload → back) with
 * 64 requests in flight; berth's CPU time (user + system, /proc/<pid>/stat)
 * is read before and after. The order alternates every round.
 *
 * Why a fresh pair each round: two identical berths on this shared 2-core
 * machine differ by up to 7% for the whole life of their processes (where
 * their threads land, how their workloads keep up), which two long-lived
 * processes turn into a bias of the whole run; fresh ones turn it into noise
 * that the rounds average out. BENCH_METRICS_A_A=1 runs both sides with
 * metrics off, to see that noise.
 *
 * The side with metrics on is scraped once in each turn (Prometheus scrapes
 * every 15–60 s, so this is more often than in production) and its count of
 * answered requests is checked. Target: metrics on costs at most 3% more.
 */
const ROUNDS = Number(process.env.BENCH_METRICS_ROUNDS ?? 16);
const PER_TURN = Number(process.env.BENCH_METRICS_REQUESTS ?? 100_000);
const WARM_UP = 20_000;
const TARGET = 1.03;
const A_A = process.env.BENCH_METRICS_A_A === "1";
type SideName = "on" | "off";
const SIDES: Record<SideName, Record<string, string>> = {
  on: A_A ? { BERTH_METRICS: "false" } : { BERTH_METRICS: "true", BERTH_METRICS_PUBLIC: "true" },
  off: { BERTH_METRICS: "false" },
};

const progress = (line: string) => process.stderr.write(`[metrics] ${line}\n`);

/** One turn on a fresh berth: berth's CPU µs per request. */
async function turn(side: SideName): Promise<{ cpuUs: number; ticks: number }> {
  const cleanup = new Cleanup();
  try {
    const { berth, client, payload } = await startSubject(
      process.env.BENCH_BERTH_FLAGS ?? BERTH_NODE_FLAGS,
      cleanup,
      SIDES[side],
    );
    const scrapes = side === "on" && !A_A;
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${berth.port}/metrics`);
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    };
    // JIT and caches warm on both sides; the first scrape (cold code) belongs to berth's start, not its steady state.
    await pump(client, payload, WARM_UP, 64);
    if (scrapes) await scrape();
    const pid = berth.child.pid as number;
    const before = cpuTicks(pid);
    const r = await pump(client, payload, PER_TURN, 64);
    const text = scrapes ? await scrape() : "";
    const ticks = cpuTicks(pid) - before;
    if (r.errors > 0) throw new Error(`metrics ${side}: ${r.errors} requests failed: ${r.firstError}`);
    if (scrapes) {
      // A benchmark of metrics that miscount would measure nothing.
      const counted = Number(/^berth_channel_requests_total\{outcome="ok"\} (\d+)/m.exec(text)?.[1]);
      if (counted !== WARM_UP + PER_TURN)
        throw new Error(`berth counted ${counted} requests of the ${WARM_UP + PER_TURN} sent`);
    }
    return { cpuUs: ((ticks / CLK_TCK) * 1e6) / PER_TURN, ticks };
  } finally {
    await cleanup.run();
  }
}

export async function run(): Promise<void> {
  const cpuUs: Record<SideName, number[]> = { on: [], off: [] };
  const ticks: Record<SideName, number> = { on: 0, off: 0 };
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: SideName[] = round % 2 === 1 ? ["on", "off"] : ["off", "on"];
    for (const side of order) {
      const t = await turn(side);
      cpuUs[side].push(t.cpuUs);
      ticks[side] += t.ticks;
    }
    const ratio = (cpuUs.on.at(-1) as number) / (cpuUs.off.at(-1) as number);
    ratios.push(ratio);
    progress(
      `round ${round}/${ROUNDS}: on ${cpuUs.on.at(-1)?.toFixed(1)} µs, off ${cpuUs.off.at(-1)?.toFixed(1)} µs per request (${ratio.toFixed(3)}×)`,
    );
  }
  const overall = ticks.on / ticks.off;
  const median = percentile(ratios, 50);
  const perRequest = (side: SideName) => ((ticks[side] / CLK_TCK / (ROUNDS * PER_TURN)) * 1e6).toFixed(1);
  console.log(
    `\n### Metrics: berth's CPU time per channel request, on vs off${A_A ? " (A/A: both off)" : ""}\n`,
  );
  console.log(
    `${ROUNDS} rounds, each on a fresh pair of berths in alternating order: ${PER_TURN.toLocaleString("en")} requests per turn (100 B, 64 in flight), full path, after ${WARM_UP.toLocaleString("en")} to warm up; berth's user + system CPU from /proc (10 ms ticks); the side with metrics scraped once a turn.\n`,
  );
  console.log("| round | metrics on | metrics off | on / off |");
  console.log("|---|---|---|---|");
  for (let i = 0; i < ROUNDS; i++)
    console.log(
      `| ${i + 1} | ${cpuUs.on[i]?.toFixed(1)} µs | ${cpuUs.off[i]?.toFixed(1)} µs | ${ratios[i]?.toFixed(3)}× |`,
    );
  console.log(`| **all** | ${perRequest("on")} µs | ${perRequest("off")} µs | **${overall.toFixed(3)}×** |`);
  // Both: a burst of other work in one turn moves the overall ratio, the median of the rounds' ratios hardly.
  const verdict = (r: number) => (r <= TARGET ? "met" : "NOT met");
  console.log(
    `\ntarget ≤ ${TARGET}×: overall ${overall.toFixed(4)}× (${verdict(overall)}); median of the rounds' ratios ${median.toFixed(4)}× (${verdict(median)})`,
  );
}
