import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActivityEntry, ContainerSpec } from "#protocol";
import { percentile } from "../../bench/stats.ts";
import type { Container } from "../../packages/client/src/index.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { collectActivity, helloThen } from "../helpers/events.ts";
import { reportReliability } from "../helpers/reliability-report.ts";
import { ADMISSION_OFF, type Client, docker, echoCode, useTestServer } from "../helpers/test-server.ts";

/**
 * Noisy neighbours: while alice's quiet echo workload answers requests one
 * after another, bob runs five noisy workloads in turn — one that spins on
 * every core, one that floods its socket, one that fork-bombs inside its
 * pids limit, one that allocates past its memory limit, one that prints as
 * fast as it can (which costs the engine's CPU, not its own). Each is told
 * in bob's feed for what it did, with its numbers, and only in bob's.
 *
 * `npm test`: each noisy kind until its feed entry (a few seconds to ~15 s),
 * alice's latencies recorded but not judged. `BERTH_SOAK=1`: 30 s quiet, then
 * 30 s of each kind; alice's request latency p99 during each stays within 2×
 * of its quiet value, reported per kind.
 */
const SOAK = process.env.BERTH_SOAK === "1";
/**
 * Alice is measured quiet right before each noisy kind, and compared with that: on a machine shared
 * with other work, a quiet value taken minutes earlier would compare two different machines.
 */
const QUIET_MS = SOAK ? 20_000 : 1_000;
/** How long alice is measured beside each noisy workload (at least until its feed entry). */
const NOISY_MS = SOAK ? 30_000 : 0;
/** A pressure report needs readings over 10 s (CPU, output); 1 s samples make it land soon after. */
const ENTRY_WITHIN_MS = 40_000;
const MiB = 1024 * 1024;
const OUTPUT_LIMIT = MiB;

interface Noisy {
  kind: string;
  /** What the feed says it did. */
  action: string;
  spec: Omit<ContainerSpec, "name">;
  /** The numbers the entry must carry. */
  check(entry: ActivityEntry): void | Promise<void>;
}

const NOISY: Noisy[] = [
  {
    kind: "spins on all cores",
    action: "container.cpu_throttled",
    spec: {
      // A small limit, so that it is reached even on a machine whose cores are busy with other work.
      resources: { cpus: 0.1 },
      // A Node workload is one thread: worker threads, one per core it sees, each a busy loop.
      code: helloThen(
        `const { Worker } = require("node:worker_threads"); welcome.then(() => { for (let i = 0; i < Math.max(2, require("node:os").availableParallelism()); i++) new Worker("for (;;) {}", { eval: true }); });`,
      ),
    },
    check(entry) {
      expect(entry.details).toMatchObject({ cpus: 0.1 });
      expect(entry.details?.throttledPercent).toBeGreaterThanOrEqual(50);
      expect(entry.details?.windowMs).toBeGreaterThanOrEqual(10_000);
      expect(entry.message).toMatch(
        /held to its limit of 0\.1 cores, throttled in \d+% of periods over the last \d+ s/,
      );
    },
  },
  {
    kind: "floods its socket",
    action: "container.channel_flooded",
    spec: {
      // Message frames as fast as the socket takes them: berth reads them a slice a turn, held to the channel's budget.
      code: helloThen(
        `welcome.then(() => { const frame = JSON.stringify({ type: "message", data: { pad: "x".repeat(256) } }) + "\\n"; const go = () => { while (s.write(frame)); s.once("drain", go); }; go(); });`,
      ),
    },
    check(entry) {
      // Held to the channel's budget of frames sent unasked (the defaults): told with the holds.
      expect(entry.details).toMatchObject({
        limitBytesPerSecond: OUTPUT_LIMIT,
        refusedFrames: 0,
        messageRate: 5000,
        messageBytesRate: 8 * MiB,
      });
      expect(entry.details?.holds).toBeGreaterThan(0);
      expect(entry.message).toMatch(
        /flooded its channel: sent [\d.]+ [KMG]?i?B in \d+ s \([\d.]+ [KMG]?i?B\/s; the output limit is 1 MiB\/s\); berth held it back [\d,]+ times? \([\d.]+ s in all\) to its budget of 5,000 frames and 8 MiB a second sent unasked/,
      );
    },
  },
  {
    kind: "fork-bombs inside its pids limit",
    action: "container.pids_limit_reached",
    spec: {
      resources: { pids: 24, cpus: 0.5 },
      code: helloThen(
        `const { spawn } = require("node:child_process"); welcome.then(() => setInterval(() => { for (let i = 0; i < 4; i++) { try { spawn(process.execPath, ["-e", "setTimeout(() => {}, 600000)"], { stdio: "ignore" }).on("error", () => {}); } catch {} } }, 50));`,
      ),
    },
    check(entry) {
      expect(entry.details).toMatchObject({ limit: 24 });
      expect(entry.details?.refused).toBeGreaterThan(0);
      expect(entry.message).toMatch(
        /reached its limit of 24 processes \(\d+ running\); [\d,]+ new process(es were| was) refused/,
      );
    },
  },
  {
    kind: "allocates past its memory limit",
    action: "container.oom_killed",
    spec: {
      resources: { memoryMb: 64 },
      restartPolicy: "no",
      code: helloThen(
        "const hog = []; welcome.then(() => setInterval(() => { for (let i = 0; i < 8; i++) hog.push(Buffer.alloc(1 << 20, 1)); }, 10));",
      ),
    },
    check(entry) {
      expect(entry.details).toMatchObject({ exitCode: 137, memoryLimitBytes: 64 * MiB });
      expect(entry.message).toContain("ran out of memory (its limit is 64 MiB)");
    },
  },
  {
    kind: "prints as fast as it can",
    action: "container.output_rate_limited",
    spec: {
      // A line at a time, as fast as the engine takes them (waiting for "drain": stdout to the engine's pipe is asynchronous).
      code: helloThen(
        'let n = 0; welcome.then(() => { const go = () => { while (process.stdout.write("line " + n++ + " of a workload printing as fast as it can\\n")); process.stdout.once("drain", go); }; go(); });',
      ),
    },
    async check(entry) {
      expect(entry.details).toMatchObject({
        limitBytesPerSecond: OUTPUT_LIMIT,
        heldCpus: 0.05,
        holdMs: 30_000,
      });
      expect(entry.details?.bytesPerSecond).toBeGreaterThan(OUTPUT_LIMIT);
      expect(entry.message).toMatch(
        /output rate-limited: wrote [\d.]+ [KMG]iB in \d+ s \([\d.]+ [KMG]iB\/s; limit 1 MiB\/s\); held to 0\.05 CPU for 30 s/,
      );
      // The hold is real: the engine runs the workload at 0.05 CPU (or 0.01, if it still wrote too much at 0.05).
      await eventually(5_000, "the workload held at 0.05 CPU or less", async () => {
        const id = entry.containerId ?? "";
        const nanoCpus = (await docker.getContainer(`berth-${id}`).inspect()).HostConfig.NanoCpus ?? 0;
        return nanoCpus === 5e7 || nanoCpus === 1e7 || `NanoCpus ${nanoCpus}`;
      });
    },
  },
];

describe("noisy neighbours", () => {
  const server = useTestServer({
    ...ADMISSION_OFF,
    BERTH_STATS_HISTORY_INTERVAL_MS: "1000",
    BERTH_OUTPUT_RATE_LIMIT: String(OUTPUT_LIMIT),
    BERTH_MAX_CPUS: "2",
  });

  /** Alice's requests one after another until `stop` settles and `minMs` passed: their latencies in ms. */
  async function latencies(quiet: Container, minMs: number, stop: Promise<unknown> = Promise.resolve()) {
    let stopped = false;
    stop.then(
      () => (stopped = true),
      () => (stopped = true),
    );
    const until = Date.now() + minMs;
    const ms: number[] = [];
    for (let n = 0; !stopped || Date.now() < until; n++) {
      const started = performance.now();
      expect(await quiet.request({ n })).toEqual({ n });
      ms.push(performance.now() - started);
    }
    return ms;
  }

  let alice: Client;
  let bob: Client;
  let aliceFeed: ReturnType<typeof collectActivity>;
  let bobFeed: ReturnType<typeof collectActivity>;
  let quiet: Container;
  const figures: Array<{ kind: string; quietP99: number; p99: number; ratio: number; requests: number }> = [];

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    aliceFeed = collectActivity(alice);
    bobFeed = collectActivity(bob);
    quiet = await alice.containers.create({ name: "quiet", code: await echoCode() });
  });

  afterAll(() => {
    aliceFeed?.stop();
    bobFeed?.stop();
  });

  it.each(NOISY)(
    "tells bob, with the numbers, that his workload $kind, while alice's requests are answered",
    async (noisy) => {
      const quietP99 = percentile(await latencies(quiet, QUIET_MS), 99);
      const c = await bob.containers.create({ name: `noisy-${figures.length}`, ...noisy.spec });
      try {
        const entries = () =>
          bobFeed.entries.filter((e) => e.containerId === c.id && e.action === noisy.action);
        const entry = (async () => {
          await eventually(ENTRY_WITHIN_MS, `${noisy.action} in bob's feed`, () => {
            const seen = bobFeed.entries.filter((e) => e.containerId === c.id).map((e) => e.action);
            return seen.includes(noisy.action) || `seen: ${seen.join(", ") || "nothing"}`;
          });
          return entries()[0]!;
        })();
        const during = await latencies(quiet, NOISY_MS, entry);
        const found = await within(ENTRY_WITHIN_MS, noisy.kind, entry);
        await noisy.check(found);
        // (Once per episode — not again until a minute of quiet — is the PressureMonitor's unit test:
        // a fake clock can wait that minute, a test within npm test's time cannot.)
        if (SOAK && noisy.action === "container.output_rate_limited") {
          // After its 30 s, a hold is given back (and taken again at once if it still prints too much).
          await eventually(45_000, "the workload's own CPU limit given back", () =>
            server
              .logs()
              .split("\n")
              .some(
                (line) =>
                  line.includes("gave a workload its CPU limit back") &&
                  line.includes(`"containerId":"${c.id}"`),
              ),
          );
        }
        const p99 = percentile(during, 99);
        figures.push({ kind: noisy.kind, quietP99, p99, ratio: p99 / quietP99, requests: during.length });
      } finally {
        await c.delete();
      }
    },
    QUIET_MS + ENTRY_WITHIN_MS + NOISY_MS + 60_000,
  );

  it(`keeps bob's noise out of alice's feed${SOAK ? ", and her p99 within 2× of quiet beside each" : ""}`, async () => {
    expect(figures).toHaveLength(NOISY.length);
    expect(aliceFeed.entries.filter((e) => e.containerId !== quiet.id)).toEqual([]);
    await quiet.delete();
    if (!SOAK) return;
    console.table(figures);
    for (const f of figures)
      expect(f.ratio, `alice's p99 while bob's workload ${f.kind}`).toBeLessThanOrEqual(2);
    await reportReliability(import.meta.filename, {
      id: "noisy-neighbours",
      test: "Noisy neighbours: another owner's request latency beside each noisy workload",
      did: `alice's echo workload answering requests one after another (${figures.reduce((n, f) => n + f.requests, 0).toLocaleString("en-US")} requests beside the noise); bob's 5 noisy workloads in turn, ${NOISY_MS / 1000} s each, each after ${QUIET_MS / 1000} s quiet; 2 owners, 6 containers`,
      measured: figures
        .map(
          (f) =>
            `${f.kind}: alice's p99 ${f.p99.toFixed(2)} ms vs ${f.quietP99.toFixed(2)} ms quiet (${f.ratio.toFixed(2)}×)`,
        )
        .join("; "),
      invariants:
        "alice's p99 ≤ 2× quiet per kind; each noisy workload in bob's feed, with its numbers (CPU throttled, channel flooded and held back to its message budget, process limit reached, out of memory with its limit, output rate-limited and held to 0.05 CPU in the engine); nothing of bob's in alice's feed",
    });
  });
});
