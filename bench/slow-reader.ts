import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { io, type Socket } from "socket.io-client";
import { BerthChild } from "./berth-child.ts";
import { Cleanup, removeLabelled } from "./cleanup.ts";
import { SDK_ECHO_WORKLOAD } from "./echo-workload.ts";
import { CLK_TCK, cpuTicks } from "./proc-stat.ts";
import { StalledClient } from "./stalled-client.ts";
import { percentile } from "./stats.ts";

/**
 * `npm run bench -- slow-reader`: berth's resident memory while a workload
 * sends 20,000 messages a second, three berth processes side by side (each as
 * `npm start` runs it): one whose flood nobody subscribes to, one with a
 * subscriber that reads, one with a subscriber that never reads (a websocket
 * that stops reading yet keeps its heartbeat, bench/stalled-client.ts). They flood in turns of
 * TURN_MS, ROUNDS times, so that a drift of the machine hits all alike; VmRSS
 * is sampled during each turn and read after a forced GC after it. Beside
 * that, another owner's client times `container:request` round trips to its
 * own container on the same berth, before and during each flood.
 */
const RATE = 20_000;
const MESSAGE_BYTES = 256;
const TURN_MS = 10_000;
const ROUNDS = 3;
const ROUND_TRIPS = 300;
const MiB = 2 ** 20;

type Kind = "no subscriber" | "subscriber that reads" | "subscriber that does not read";

interface Subject {
  kind: Kind;
  berth: BerthChild;
  owner: Socket;
  floodId: string;
  other: Socket;
  echoId: string;
  subscriber: Socket | undefined;
  stalled: StalledClient | undefined;
  delivered: number;
  dropped: number;
  disconnected: string | undefined;
  startRss: number;
  afterGc: number[];
  peakRss: number;
  deliveredPerSecond: number[];
  /** berth's CPU time during its floods, in seconds, and how long they lasted. */
  cpuSeconds: number;
  floodSeconds: number;
  before: number[];
  during: number[];
}

function connect(port: number, token: string): Promise<Socket> {
  const client = io(`http://127.0.0.1:${port}`, {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
  });
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("connect_error", reject);
  });
}

async function ask(client: Socket, event: string, payload: unknown): Promise<unknown> {
  const res = (await client.timeout(60_000).emitWithAck(event, payload)) as {
    ok: boolean;
    data?: unknown;
    error?: unknown;
  };
  if (!res.ok) throw new Error(`${event}: ${JSON.stringify(res.error)}`);
  return res.data;
}

async function vmRss(pid: number): Promise<number> {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

async function roundTrips(s: Subject, into: number[]): Promise<void> {
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t = performance.now();
    await ask(s.other, "container:request", { id: s.echoId, data: { ping: i } });
    into.push(performance.now() - t);
  }
}

async function startSubject(kind: Kind, floodCode: string, cleanup: Cleanup): Promise<Subject> {
  const dataDir = await mkdtemp(join(tmpdir(), "bs-"));
  cleanup.add("remove the data dir", () => rm(dataDir, { recursive: true, force: true }));
  const tokens = { bench: "bench-token-0123456789", other: "other-token-0123456789" };
  const berth = await BerthChild.spawn({
    BERTH_DATA_DIR: dataDir,
    BERTH_TOKENS: `bench:${tokens.bench},other:${tokens.other}`,
    // No budget on messages: the flood (RATE a second) must reach berth's clients whole, as it measures.
    BERTH_CHANNEL_MESSAGE_RATE: "0",
    BERTH_CHANNEL_MESSAGE_BYTES_RATE: "0",
  });
  const docker = new Dockerode({ socketPath: "/var/run/docker.sock" });
  cleanup.add("remove berth's containers", () =>
    removeLabelled(docker, `berth.instance=${berth.instanceId}`),
  );
  cleanup.add("stop berth", () => berth.stop());
  const owner = await connect(berth.port, tokens.bench);
  const other = await connect(berth.port, tokens.other);
  cleanup.add("disconnect", () => {
    owner.disconnect();
    other.disconnect();
  });
  const flood = (await ask(owner, "container:create", {
    name: "flood",
    code: { files: { "index.js": floodCode } },
  })) as { id: string };
  const echo = (await ask(other, "container:create", {
    name: "echo",
    code: { files: { "index.js": SDK_ECHO_WORKLOAD } },
  })) as { id: string };
  const s: Subject = {
    kind,
    berth,
    owner,
    floodId: flood.id,
    other,
    echoId: echo.id,
    subscriber: undefined,
    stalled: undefined,
    delivered: 0,
    dropped: 0,
    disconnected: undefined,
    startRss: 0,
    afterGc: [],
    peakRss: 0,
    deliveredPerSecond: [],
    cpuSeconds: 0,
    floodSeconds: 0,
    before: [],
    during: [],
  };
  if (kind === "subscriber that does not read") {
    const stalled = await StalledClient.connect(berth.port, tokens.bench);
    cleanup.add("close the stalled client", () => stalled.close());
    await stalled.subscribe(flood.id);
    stalled.pause();
    s.stalled = stalled;
  } else if (kind === "subscriber that reads") {
    const subscriber = await connect(berth.port, tokens.bench);
    cleanup.add("disconnect the subscriber", () => subscriber.disconnect());
    subscriber.on("container:message", () => s.delivered++);
    subscriber.on("container:dropped", (e: { count: number }) => {
      s.dropped += e.count;
    });
    subscriber.on("disconnect", (reason) => {
      s.disconnected = reason;
    });
    await ask(subscriber, "container:subscribe", { id: flood.id });
    s.subscriber = subscriber;
  }
  s.startRss = (await berth.memory()).rssBytes;
  return s;
}

async function turn(s: Subject): Promise<void> {
  await roundTrips(s, s.before);
  const delivered = s.delivered;
  const ticks = cpuTicks(s.berth.child.pid!);
  const started = performance.now();
  await ask(s.owner, "container:request", {
    id: s.floodId,
    data: { messages: { perSecond: RATE, bytes: MESSAGE_BYTES } },
  });
  const sampler = setInterval(() => {
    void vmRss(s.berth.child.pid!).then((rss) => {
      s.peakRss = Math.max(s.peakRss, rss);
    });
  }, 250);
  try {
    await new Promise((r) => setTimeout(r, 2_000));
    await roundTrips(s, s.during);
    const left = TURN_MS - (performance.now() - started);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  } finally {
    clearInterval(sampler);
  }
  const { sent } = (await ask(s.owner, "container:request", { id: s.floodId, data: { stop: true } })) as {
    sent: number;
  };
  const seconds = (performance.now() - started) / 1000;
  s.cpuSeconds += (cpuTicks(s.berth.child.pid!) - ticks) / CLK_TCK;
  s.floodSeconds += seconds;
  s.deliveredPerSecond.push((s.delivered - delivered) / seconds);
  s.afterGc.push((await s.berth.memory()).rssBytes);
  process.stderr.write(
    `${s.kind}: ${sent} sent so far, ${Math.round((s.delivered - delivered) / seconds)}/s delivered, peak VmRSS ${(s.peakRss / MiB).toFixed(1)} MiB\n`,
  );
}

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
const ms = (n: number) => (n < 1 ? `${Math.round(n * 1000)} µs` : `${n.toFixed(2)} ms`);

export async function run(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const floodCode = await readFile(new URL("../test/fixtures/workloads/flood.js", import.meta.url), "utf8");
    const kinds: Kind[] = ["no subscriber", "subscriber that reads", "subscriber that does not read"];
    const subjects: Subject[] = [];
    for (const kind of kinds) subjects.push(await startSubject(kind, floodCode, cleanup));
    for (let round = 0; round < ROUNDS; round++) for (const s of subjects) await turn(s);
    // The non-reader reads again: what it missed arrives as container:dropped.
    const paused = subjects.find((s) => s.kind === "subscriber that does not read");
    if (paused?.stalled) {
      if (paused.stalled.closed) paused.disconnected = "closed by berth";
      const notice = await Promise.race([
        paused.stalled.resumeUntilDropped(),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000)),
      ]);
      paused.dropped = notice?.count ?? 0;
    }

    const base = subjects[0]!;
    console.log(
      `\n### slow reader: ${RATE.toLocaleString("en")} messages/s of ${MESSAGE_BYTES} B, ${ROUNDS} turns of ${TURN_MS / 1000} s each\n`,
    );
    console.log(
      "| berth with | VmRSS before | after each turn (after GC) | peak during floods | ratio to no subscriber (after last turn / peak) | delivered/s | dropped (told) | berth CPU during floods |",
    );
    console.log("|---|---|---|---|---|---|---|---|");
    for (const s of subjects) {
      const last = s.afterGc.at(-1)!;
      console.log(
        `| ${s.kind} | ${mib(s.startRss)} | ${s.afterGc.map(mib).join(", ")} | ${mib(s.peakRss)} | ${(last / base.afterGc.at(-1)!).toFixed(2)}× / ${(s.peakRss / base.peakRss).toFixed(2)}× | ${s.kind === "no subscriber" ? "–" : Math.round(Math.min(...s.deliveredPerSecond)).toLocaleString("en")} | ${s.kind === "no subscriber" ? "–" : `${s.dropped.toLocaleString("en")}${s.disconnected ? ` (disconnected: ${s.disconnected})` : ""}`} | ${((100 * s.cpuSeconds) / s.floodSeconds).toFixed(0)}% of one core |`,
      );
    }
    console.log(
      `\n### another owner's \`container:request\` round trip on the same berth, ${ROUNDS} × ${ROUND_TRIPS} each\n`,
    );
    console.log("| berth with | p50 before | p50 during | ratio p50 | p99 before | p99 during | ratio p99 |");
    console.log("|---|---|---|---|---|---|---|");
    for (const s of subjects) {
      const [b50, d50, b99, d99] = [
        percentile(s.before, 50),
        percentile(s.during, 50),
        percentile(s.before, 99),
        percentile(s.during, 99),
      ];
      console.log(
        `| ${s.kind} | ${ms(b50)} | ${ms(d50)} | ${(d50 / b50).toFixed(2)}× | ${ms(b99)} | ${ms(d99)} | ${(d99 / b99).toFixed(2)}× |`,
      );
    }
  } finally {
    await cleanup.run();
  }
}
