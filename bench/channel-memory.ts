import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { io, type Socket } from "socket.io-client";
import { BerthChild, type MemoryReading } from "./berth-child.ts";
import { Cleanup, removeLabelled } from "./cleanup.ts";
import { SDK_ECHO_WORKLOAD } from "./echo-workload.ts";
import { PAYLOADS } from "./payloads.ts";

export interface MemoryRun {
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
function pump(
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

/**
 * Memory: berth runs as its own process (src/main.ts), an SDK echo container
 * is made through it, and the full path (c) carries `total` small requests
 * with 64 in flight; every 100,000 answers the flow pauses and berth's memory
 * is read after a forced GC.
 */
export async function measureMemory(total: number, progress: (line: string) => void): Promise<MemoryRun> {
  const cleanup = new Cleanup();
  try {
    const dataDir = await mkdtemp(join(tmpdir(), "bm-"));
    cleanup.add("remove the data dir", () => rm(dataDir, { recursive: true, force: true }));
    const token = "bench-token-0123456789";
    const berth = await BerthChild.spawn({ BERTH_DATA_DIR: dataDir, BERTH_TOKENS: `bench:${token}` });
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
    const payload = { id: created.data.id as string, data: PAYLOADS[0]!.data };

    const run: MemoryRun = { readings: [], elapsedMs: 0, errors: 0, firstError: undefined };
    for (let done = 0; done < total; ) {
      const n = Math.min(STEP, total - done);
      const t = performance.now();
      const r = await pump(client, payload, n, 64);
      const ms = performance.now() - t;
      run.elapsedMs += ms;
      run.errors += r.errors;
      run.firstError ??= r.firstError;
      done += n;
      const memory = await berth.memory();
      run.readings.push({ requests: done, memory });
      progress(
        `memory run: ${done} requests, ${Math.round((n * 1000) / ms)}/s, VmRSS ${(memory.rssBytes / 2 ** 20).toFixed(1)} MiB`,
      );
    }
    return run;
  } finally {
    await cleanup.run();
  }
}
