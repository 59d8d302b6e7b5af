import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import Dockerode from "dockerode";
import { io, type Socket } from "socket.io-client";
import type { AckResponse, ClientEvent, RequestOf, ResultMap } from "#protocol";
import { Berth } from "../src/berth.ts";
import { type Config, loadConfig } from "../src/config/config.ts";
import { RATE_LIMITS_OFF } from "./admission-env.ts";
import { secretKeyFileBeside } from "./secret-key-file.ts";

/** The one owner's token: for a benchmark that signs in elsewhere too (the dashboard's, in a browser). */
export const BENCH_TOKEN = "bench-token-0123456789";
const TOKEN = BENCH_TOKEN;

export interface InProcessBerth {
  berth: Berth;
  config: Config;
  /** Where it listens: `http://127.0.0.1:<port>`. */
  url: string;
  client: Socket;
  /** The echo workload's source (test/fixtures/workloads/echo.js). */
  echo: string;
  /** Emits a contract event and resolves with its data, or throws with the error. */
  ack<E extends ClientEvent>(event: E, payload: RequestOf<E>): Promise<ResultMap[E]>;
  /** Disconnects, stops berth and removes every container it made, also after a failure. */
  close(): Promise<void>;
}

/** A berth in this process on an ephemeral port, with its own data directory, and a connected client. */
export async function startInProcessBerth(env: Record<string, string> = {}): Promise<InProcessBerth> {
  const dataDir = await mkdtemp(join(tmpdir(), "bb-"));
  const config = loadConfig({
    BERTH_DATA_DIR: dataDir,
    BERTH_SECRET_KEY_FILE: secretKeyFileBeside(dataDir),
    BERTH_PORT: "0",
    BERTH_LOG_LEVEL: process.env.BENCH_BERTH_LOG ? "info" : "warn",
    BERTH_TOKENS: `bench:${TOKEN}`,
    ...RATE_LIMITS_OFF,
    ...env,
  });
  // BENCH_BERTH_LOG=FILE keeps berth's log lines (at BERTH_LOG_LEVEL, given in `env` or the environment):
  // a figure that looks wrong is read from them.
  const logFile = process.env.BENCH_BERTH_LOG;
  const berth = await Berth.open(config, {
    logDestination: logFile ? createWriteStream(logFile, { flags: "a" }) : new PassThrough().resume(),
  });
  const port = await berth.start();
  // Where berth listens (BERTH_HOST: e.g. the cluster test bed's bridge address), or the loopback when everywhere.
  const host = ["0.0.0.0", "::"].includes(config.host) ? "127.0.0.1" : config.host;
  const url = `http://${host}:${port}`;
  const client = io(url, { auth: { token: TOKEN }, transports: ["websocket"] });
  await new Promise<void>((r) => client.once("connect", () => r()));
  const echo = await readFile(new URL("../test/fixtures/workloads/echo.js", import.meta.url), "utf8");
  return {
    berth,
    config,
    url,
    client,
    echo,
    async ack<E extends ClientEvent>(event: E, payload: RequestOf<E>): Promise<ResultMap[E]> {
      const res = (await client.timeout(60_000).emitWithAck(event, payload)) as AckResponse<ResultMap[E]>;
      if (!res.ok) throw new Error(`${event}: ${JSON.stringify(res.error)}`);
      return res.data;
    },
    async close() {
      client.disconnect();
      // Whatever berth's own close says, its containers go: a benchmark leaves nothing running.
      await berth
        .close()
        .catch((err: unknown) => process.stderr.write(`berth did not close cleanly: ${String(err)}\n`));
      const docker = new Dockerode({ socketPath: config.dockerSocket });
      const left = await docker.listContainers({
        all: true,
        filters: { label: [`berth.instance=${berth.instanceId}`] },
      });
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await rm(dataDir, { recursive: true, force: true });
      await rm(secretKeyFileBeside(dataDir), { force: true });
    },
  };
}
