import { BERTH_NODE_FLAGS } from "./berth-child.ts";
import { pump, type Subject, startSubject } from "./channel-memory.ts";
import { Cleanup } from "./cleanup.ts";
import { CLK_TCK, cpuTicks } from "./proc-stat.ts";
import { percentile } from "./stats.ts";

/**
 * Metrics: what Prometheus metrics cost berth, as its CPU time per channel
 * request. Two berth processes (src/main.ts, npm start's flags), one with
 * metrics on (scraped every SCRAPE_MS, as Prometheus would) and one with
 * BERTH_METRICS=false, each with an SDK echo container made through it, take
 * turns carrying the full path (socket.io-client → `container:request` →
 * workload → back) with 64 requests in flight. The order alternates every
 * round, so that a drift of this shared machine's speed hits both alike;
 * berth's CPU time (user + system, /proc/<pid>/stat) is read before and after
 * each turn. Target: metrics on costs at most 3% more.
 *
 * BENCH_METRICS_A_A=1 runs both sides with metrics off: the spread of that
 * run is the machine's noise, against which the real ratio is read.
 */
const ROUNDS = Number(process.env.BENCH_METRICS_ROUNDS ?? 10);
const PER_TURN = Number(process.env.BENCH_METRICS_REQUESTS ?? 50_000);
const WARM_UP = 20_000;
const TARGET = 1.03;
/** Prometheus's usual scrape interval (its default is 1 min; 15 s is common). */
const SCRAPE_MS = Number(process.env.BENCH_METRICS_SCRAPE_MS ?? 15_000);
const A_A = process.env.BENCH_METRICS_A_A === "1";

const progress = (line: string) => process.stderr.write(`[metrics] ${line}\n`);

interface Side {
  name: "on" | "off";
  subject: Subject;
  /** berth's CPU µs per request, one per round. */
  cpuUs: number[];
  ticks: number;
  requests: number;
}

async function turn(side: Side): Promise<void> {
  const { berth, client, payload } = side.subject;
  const pid = berth.child.pid as number;
  const before = cpuTicks(pid);
  const r = await pump(client, payload, PER_TURN, 64);
  const ticks = cpuTicks(pid) - before;
  if (r.errors > 0) throw new Error(`metrics ${side.name}: ${r.errors} requests failed: ${r.firstError}`);
  side.ticks += ticks;
  side.requests += PER_TURN;
  side.cpuUs.push(((ticks / CLK_TCK) * 1e6) / PER_TURN);
}

async function scrapeText(side: Side): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${side.subject.berth.port}/metrics`);
  if (res.status !== (side.name === "on" ? 200 : 404)) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

export async function run(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const flags = process.env.BENCH_BERTH_FLAGS ?? BERTH_NODE_FLAGS;
    const on: Side = {
      name: "on",
      subject: await startSubject(
        flags,
        cleanup,
        A_A ? { BERTH_METRICS: "false" } : { BERTH_METRICS: "true", BERTH_METRICS_PUBLIC: "true" },
      ),
      cpuUs: [],
      ticks: 0,
      requests: 0,
    };
    const off: Side = {
      name: "off",
      subject: await startSubject(flags, cleanup, { BERTH_METRICS: "false" }),
      cpuUs: [],
      ticks: 0,
      requests: 0,
    };
    for (const side of [on, off]) await pump(side.subject.client, side.subject.payload, WARM_UP, 64);
    // Scrapes belong to what metrics cost: they land in whichever turns they fall in, as they would in production.
    let scrapes = 0;
    const scraper = setInterval(() => {
      if (A_A) return;
      scrapes++;
      scrapeText(on).catch((err: unknown) => progress(`scrape failed: ${String(err)}`));
    }, SCRAPE_MS);
    cleanup.add("stop scraping", () => clearInterval(scraper));
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [on, off] : [off, on];
      for (const side of order) await turn(side);
      const ratio = (on.cpuUs.at(-1) as number) / (off.cpuUs.at(-1) as number);
      ratios.push(ratio);
      progress(
        `round ${round}/${ROUNDS}: on ${on.cpuUs.at(-1)?.toFixed(1)} µs, off ${off.cpuUs.at(-1)?.toFixed(1)} µs per request (${ratio.toFixed(3)}×)`,
      );
    }
    // The counts must be what was sent: a benchmark of metrics that miscount would measure nothing.
    if (!A_A) {
      const text = await scrapeText(on);
      const counted = Number(/^berth_channel_requests_total\{outcome="ok"\} (\d+)/m.exec(text)?.[1]);
      const sent = WARM_UP + on.requests;
      if (counted !== sent) throw new Error(`berth counted ${counted} requests of the ${sent} sent`);
    }

    const overall = on.ticks / on.requests / (off.ticks / off.requests);
    const median = percentile(ratios, 50);
    console.log(
      `\n### Metrics: berth's CPU time per channel request, on vs off${A_A ? " (A/A: both off)" : ""}\n`,
    );
    console.log(
      `${ROUNDS} alternating rounds of ${PER_TURN.toLocaleString("en")} requests each (100 B, 64 in flight), full path; berth's user + system CPU from /proc (10 ms ticks); metrics scraped every ${SCRAPE_MS / 1000} s (${scrapes} scrapes).\n`,
    );
    console.log("| round | metrics on | metrics off | on / off |");
    console.log("|---|---|---|---|");
    for (let i = 0; i < ROUNDS; i++)
      console.log(
        `| ${i + 1} | ${on.cpuUs[i]?.toFixed(1)} µs | ${off.cpuUs[i]?.toFixed(1)} µs | ${ratios[i]?.toFixed(3)}× |`,
      );
    console.log(
      `| **all** | ${((on.ticks / CLK_TCK / on.requests) * 1e6).toFixed(1)} µs | ${((off.ticks / CLK_TCK / off.requests) * 1e6).toFixed(1)} µs | **${overall.toFixed(3)}×** |`,
    );
    // Both, since this machine is shared: a burst of other work in one turn moves the overall ratio, the median
    // of the paired rounds hardly (run with BENCH_METRICS_A_A=1 to see how far each moves with no difference).
    const verdict = (r: number) => (r <= TARGET ? "met" : "NOT met");
    console.log(
      `\ntarget ≤ ${TARGET}×: median of the rounds' ratios ${median.toFixed(4)}× (${verdict(median)}); overall ${overall.toFixed(4)}× (${verdict(overall)})`,
    );
  } finally {
    await cleanup.run();
  }
}
