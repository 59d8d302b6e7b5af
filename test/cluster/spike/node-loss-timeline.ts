// Where the time goes when a node is lost, from Swarm's own side: the test bed's node links cut one at a time
// (the Raft leader, then a manager that does not lead, as many rounds as asked), and for each cut every change
// of `docker node ls` as the other managers answer it, beside the lines of their own dockerd logs that speak of
// Raft, the leadership, the dispatcher's heartbeats and node states — each in seconds after the cut.
//   flock /tmp/berthc.lock node_modules/.bin/node test/cluster/spike/node-loss-timeline.ts [ROUNDS]
// ROUNDS (default 2): how many pairs of cuts (leader, then non-leader). Root; brings the test bed up and down.
import { open } from "node:fs/promises";
import { join } from "node:path";
import { allReady, Testbed } from "../testbed/testbed.ts";
import { log, sleep } from "./spike-log.ts";

const POLL_MS = 200;
const ASK_TIMEOUT_MS = 3_000;
const ROUND_LIMIT_MS = 120_000;
/** The dockerd log lines worth showing: Raft's elections, the leadership, the dispatcher and node states. */
const RELEVANT =
  /election|elected|became (leader|follower|candidate)|leader|lost leader|unknown|heartbeat|down|unreachable|dispatcher/i;

const pairs = Number(process.argv[2] ?? 2);
const bed = await Testbed.up();
try {
  const info = (await bed.node(1).docker.swarmInspect()) as {
    Spec: { Dispatcher: { HeartbeatPeriod: number }; Raft: { ElectionTick: number; HeartbeatTick: number } };
  };
  console.log(
    `Swarm: dispatcher heartbeat ${info.Spec.Dispatcher.HeartbeatPeriod / 1e9} s, Raft ElectionTick ${info.Spec.Raft.ElectionTick}, HeartbeatTick ${info.Spec.Raft.HeartbeatTick} (cluster spec)`,
  );
  for (let round = 0; round < pairs * 2; round++) await cut(round % 2 === 0 ? "leader" : "follower");
} finally {
  await bed.down();
}

async function cut(which: "leader" | "follower"): Promise<void> {
  const steady = await bed.waitForNodes(allReady, ROUND_LIMIT_MS);
  await sleep(3_000); // heartbeats flowing again after the last heal
  const target = steady.find((n) => (n.manager?.leader === true) === (which === "leader"))!;
  const index = bed.engines.find((e) => e.node.hostname === target.hostname)!.node.index;
  const survivors = bed.engines.filter((e) => e.node.index !== index);
  const offsets = await Promise.all(survivors.map((e) => logSize(e.node.dir)));
  const cutWall = Date.now();
  const cutAt = performance.now();
  // Every event of the round, in seconds after the cut: node ls as seen here, the survivors' log lines by their own time.
  const events: Array<[number, string]> = [];
  await bed.setLinkDown(index);
  console.log(
    `\n${target.hostname} cut (${which === "leader" ? "it led the managers" : "it did not lead"}):`,
  );
  let last = "";
  let downAt: number | undefined;
  while (performance.now() - cutAt < ROUND_LIMIT_MS) {
    const askedAt = performance.now();
    // Given up after 3 s, as berth's Membership gives an ask up (its next ask comes at its next interval).
    const answer = await Promise.race([
      bed.nodeLs([index]),
      sleep(ASK_TIMEOUT_MS).then(() => {
        throw new Error(`no answer within ${ASK_TIMEOUT_MS} ms`);
      }),
    ])
      .then((ns) =>
        ns.map((n) => `${n.hostname.slice(-2)} ${n.status}${n.manager?.leader ? " (leads)" : ""}`).join(", "),
      )
      .catch((err: Error) => `no answer: ${err.message.replace(/\s+/g, " ").slice(0, 90)}`);
    // A manager asked while the Raft leader is gone holds the question until it can answer.
    const tookMs = performance.now() - askedAt;
    const view = tookMs > 1_000 ? `${answer} (asked at ${((askedAt - cutAt) / 1000).toFixed(1)} s)` : answer;
    if (view !== last) events.push([(performance.now() - cutAt) / 1000, `node ls: ${view}`]);
    last = view;
    if (downAt === undefined && answer.includes(`${target.hostname.slice(-2)} down`))
      downAt = performance.now();
    if (downAt !== undefined && performance.now() - downAt > 1_000) break;
    await sleep(POLL_MS);
  }
  for (const [i, engine] of survivors.entries()) {
    for (const line of await logLinesFrom(engine.node.dir, offsets[i]!)) {
      if (!RELEVANT.test(line)) continue;
      const at = /time="([^"]+)"/.exec(line)?.[1];
      const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line;
      events.push([
        at ? (Date.parse(at) - cutWall) / 1000 : Number.NaN,
        `${engine.node.hostname.slice(-2)} log: ${msg.slice(0, 160)}`,
      ]);
    }
  }
  events.sort((a, b) => a[0] - b[0]);
  for (const [after, what] of events) console.log(`  ${after.toFixed(1).padStart(5)} s  ${what}`);
  console.log(
    downAt === undefined
      ? `  not called down within ${ROUND_LIMIT_MS / 1000} s`
      : `  → called down ${((downAt - cutAt) / 1000).toFixed(1)} s after the cut`,
  );
  await bed.setLinkUp(index);
  log(`healed ${target.hostname}`);
}

async function logSize(dir: string): Promise<number> {
  const file = await open(join(dir, "dockerd.log"));
  try {
    return (await file.stat()).size;
  } finally {
    await file.close();
  }
}

async function logLinesFrom(dir: string, offset: number): Promise<string[]> {
  const file = await open(join(dir, "dockerd.log"));
  try {
    const { size } = await file.stat();
    const buf = Buffer.alloc(size - offset);
    await file.read(buf, 0, buf.length, offset);
    return buf.toString("utf8").split("\n");
  } finally {
    await file.close();
  }
}
