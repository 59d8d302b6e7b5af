import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { io, type Socket } from "socket.io-client";
import { BerthChild, type MemoryReading } from "./berth-child.ts";
import { Cleanup, removeLabelled } from "./cleanup.ts";
import { SDK_ECHO_WORKLOAD } from "./echo-workload.ts";
import { PAYLOADS } from "./payloads.ts";
import { secretKeyFileBeside } from "./secret-key-file.ts";

export interface MemoryRun {
  /** The Node.js flags berth ran with. */
  nodeFlags: string;
  /** berth's memory after a forced GC, keyed by the number of requests answered so far. */
  readings: { requests: number; memory: MemoryReading }[];
  elapsedMs: number;
  errors: number;
  firstError: string | undefined;
}

const STEP = 100_000;

/**
 * Sends `count` requests with `inFlight` outstanding, straight from the
 * acknowledgement callbacks (no promise per request, so the client costs as
 * little as it can): the fastest closed loop the full path allows.
 */
export function pump(
  client: Socket,
  payload: unknown,
  count: number,
  inFlight: number,
): Promise<{ errors: number; firstError: string | undefined }> {
  return new Promise((resolve) => {
    let sent = 0;
    let done = 0;
    let errors = 0;
    let firstError: string | undefined;
    const onAck = (res: { ok: boolean; error?: unknown }) => {
      done++;
      if (!res.ok) {
        errors++;
        firstError ??= JSON.stringify(res.error);
      }
      if (sent < count) send();
      else if (done === count) resolve({ errors, firstError });
    };
    const send = () => {
      sent++;
      client.emit("container:request", payload, onAck);
    };
    for (let i = 0; i < Math.min(inFlight, count); i++) send();
  });
}

/** One berth process with an SDK echo container made through it, and a client connected to it. */
export interface Subject {
  berth: BerthChild;
  client: Socket;
  payload: { id: string; data: unknown };
  run: MemoryRun;
}

/** `env` is added to berth's environment (the metrics benchmark turns metrics on or off with it). */
export async function startSubject(
  nodeFlags: string,
  cleanup: Cleanup,
  env: Record<string, string> = {},
): Promise<Subject> {
  const dataDir = await mkdtemp(join(tmpdir(), "bm-"));
  cleanup.add("remove the data dir", () => rm(dataDir, { recursive: true, force: true }));
  cleanup.add("remove the key file", () => rm(secretKeyFileBeside(dataDir), { force: true }));
  const token = "bench-token-0123456789";
  const berth = await BerthChild.spawn(
    {
      BERTH_DATA_DIR: dataDir,
      BERTH_SECRET_KEY_FILE: secretKeyFileBeside(dataDir),
      BERTH_TOKENS: `bench:${token}`,
      ...env,
    },
    nodeFlags,
  );
  const docker = new Dockerode({ socketPath: "/var/run/docker.sock" });
  cleanup.add("remove berth's containers", () =>
    removeLabelled(docker, `berth.instance=${berth.instanceId}`),
  );
  cleanup.add("stop berth", () => berth.stop());
  const client = io(`http://127.0.0.1:${berth.port}`, { auth: { token }, transports: ["websocket"] });
  cleanup.add("disconnect", () => client.disconnect());
  await new Promise<void>((r) => client.once("connect", () => r()));
  const created = await client.timeout(60_000).emitWithAck("container:create", {
    name: "memory",
    code: { files: { "index.js": SDK_ECHO_WORKLOAD } },
  });
  if (!created.ok) throw new Error(`container:create: ${JSON.stringify(created.error)}`);
  return {
    berth,
    client,
    payload: { id: created.data.id as string, data: PAYLOADS[0]!.data },
    run: { nodeFlags, readings: [], elapsedMs: 0, errors: 0, firstError: undefined },
  };
}

/**
 * Memory: one berth process (src/main.ts) per set of Node.js flags, each with
 * an SDK echo container made through it; the full path (c) carries `total`
 * small requests with 64 in flight to each. The berths take turns, 100,000
 * requests at a time (so that a drift of the machine's speed hits all of them
 * alike); after each turn the flow pauses and that berth's memory and CPU time
 * are read, after a forced GC.
 */
export async function measureMemory(
  total: number,
  flagSets: string[],
  progress: (line: string) => void,
): Promise<MemoryRun[]> {
  const cleanup = new Cleanup();
  try {
    const subjects: Subject[] = [];
    for (const flags of flagSets) subjects.push(await startSubject(flags, cleanup));
    for (let done = 0; done < total; ) {
      const n = Math.min(STEP, total - done);
      done += n;
      for (const { berth, client, payload, run } of subjects) {
        const t = performance.now();
        const r = await pump(client, payload, n, 64);
        const ms = performance.now() - t;
        run.elapsedMs += ms;
        run.errors += r.errors;
        run.firstError ??= r.firstError;
        const memory = await berth.memory();
        run.readings.push({ requests: done, memory });
        progress(
          `memory run (${run.nodeFlags || "V8 defaults"}): ${done} requests, ${Math.round((n * 1000) / ms)}/s, VmRSS ${(memory.rssBytes / 2 ** 20).toFixed(1)} MiB`,
        );
      }
    }
    return subjects.map((s) => s.run);
  } finally {
    await cleanup.run();
  }
}
