import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import Dockerode from "dockerode";
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll } from "vitest";
import type {
  AckResponse,
  ClientEvent,
  ClientToServerEvents,
  RequestOf,
  ResultMap,
  ServerToClientEvents,
} from "#protocol";
import {
  BerthClient,
  type ConnectOptions,
  connect as connectClient,
} from "../../packages/client/src/index.ts";
import { Berth, type BerthOptions } from "../../src/berth.ts";
import { loadConfig } from "../../src/config/config.ts";
import { Redactor } from "../../src/logging/redactor.ts";
import { createSystemLogger } from "../../src/logging/system-logger.ts";
import { EgressFirewall } from "../../src/network/egress-firewall.ts";
import { egressPolicy } from "../../src/network/egress-policy.ts";
import { ExecFileIptables } from "../../src/network/iptables.ts";
import { secretKeyFileBeside } from "./berth-process.ts";
import { settled } from "./settled.ts";
import { removeStoreFor, storeEnvFor } from "./test-store.ts";

export const docker = new Dockerode({ socketPath: "/var/run/docker.sock" });

export const TOKENS = {
  alice: "alice-token-0123456789",
  bob: "bob-token-0123456789",
  admin: "admin-token-0123456789",
} as const;

/** A connection made with berth's client SDK, as an application makes one. */
export type Client = BerthClient;
/**
 * A bare Socket.IO connection, for the tests of the wire itself (what berth
 * does with malformed frames, unknown events, slow readers, recovery).
 */
export type RawClient = Socket<ServerToClientEvents, ClientToServerEvents>;

type Who = keyof typeof TOKENS | { token: string };

export interface TestServer {
  berth: Berth;
  url: string;
  dataDir: string;
  /** Every JSON line berth logged so far. */
  logs(): string;
  /** Connects through the client SDK (without reconnecting unless asked), closed with the server. */
  connect(who: Who, options?: Omit<ConnectOptions, "token">): Promise<Client>;
  /** Connects a bare Socket.IO socket (WebSocket, no reconnection), closed with the server. */
  connectRaw(who: Who): Promise<RawClient>;
  /** Stops berth and removes everything it made: engine containers, data directory, key. */
  close(): Promise<void>;
  /**
   * Stops berth as an upgrade or a crash would: its containers keep running,
   * and its data directory (when the test gave one) and key stay for a berth
   * started again on them, whose close() removes them.
   */
  stop(): Promise<void>;
  /**
   * Stops berth as an upgrade would (its containers keep running) and starts
   * a new one on the same data directory, key and port, so that a client
   * left connected (a dashboard's page) can reconnect to it by itself.
   * `berth` is the new one afterwards. Clients opened with `connect` without
   * reconnecting close with the drop, as they would against a real restart.
   */
  restart(): Promise<void>;
}

const echoWorkload = readFile(new URL("../fixtures/workloads/echo.js", import.meta.url), "utf8");

/** The echo fixture as `code.files`, ready for a create. */
export async function echoCode(): Promise<{ files: Record<string, string> }> {
  return { files: { "index.js": await echoWorkload } };
}

/** The echo workload, printing `tick <n>` every 50 ms: output to follow. */
export async function tickingCode(): Promise<{ files: Record<string, string> }> {
  const echo = (await echoCode()).files["index.js"];
  return { files: { "index.js": `let n = 0; setInterval(() => console.log("tick " + n++), 50);\n${echo}` } };
}

/**
 * Quotas, rate limits and the engine queue's bounds out of the way, unless a
 * test sets them: most tests make bursts that are not what they test. The
 * queue's concurrency keeps its default, so every test goes through it.
 */
export const ADMISSION_OFF: Record<string, string> = {
  BERTH_QUOTA_CONTAINERS: "100000",
  BERTH_QUOTA_RUNNING: "100000",
  BERTH_QUOTA_MEMORY_MB: "100000000",
  BERTH_QUOTA_CPUS: "100000",
  BERTH_QUOTA_CODE_MB: "100000",
  BERTH_RATE_CREATE_PER_MIN: "0",
  BERTH_RATE_LIFECYCLE_PER_MIN: "0",
  BERTH_RATE_UPDATE_PER_MIN: "0",
  BERTH_ENGINE_QUEUE_PER_OWNER: "100000",
  BERTH_ENGINE_QUEUE_TOTAL: "100000",
};

/**
 * Starts a berth on an ephemeral port with its own data directory (and so its
 * own instance id), and on close removes whatever it left in the engine, by
 * its instance label — even after a failed test.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: Pick<BerthOptions, "iptables" | "egressRecheckMs" | "stewardPassMs"> = {},
): Promise<TestServer> {
  // Short paths: a Unix socket path may have at most 107 bytes.
  const dataDir = await mkdtemp(join(tmpdir(), "bt-"));
  // The key for secrets at rest lives outside the data directory, as in production — but never in /etc;
  // beside the data directory, so that a berth started again on the same directory finds the same key.
  const keyFile = env.BERTH_SECRET_KEY_FILE ? undefined : secretKeyFileBeside(env.BERTH_DATA_DIR ?? dataDir);
  // The store follows the data directory berth uses: a test's own (kept by stop(), for a berth started
  // again on it) or the helper's (removed by close(), and its database with it).
  const storeDir = env.BERTH_DATA_DIR ?? dataDir;
  const removeStore = () => (env.BERTH_DATA_DIR ? Promise.resolve() : removeStoreFor(dataDir));
  const logStream = new PassThrough();
  let logText = "";
  logStream.on("data", (c: Buffer) => {
    logText += c.toString();
  });
  const configEnv: Record<string, string> = {
    BERTH_DATA_DIR: dataDir,
    BERTH_PORT: "0",
    BERTH_LOG_LEVEL: "debug",
    BERTH_TOKENS: `alice:${TOKENS.alice},bob:${TOKENS.bob}`,
    BERTH_ADMIN_TOKEN: TOKENS.admin,
    BERTH_READY_TIMEOUT_MS: "15000",
    BERTH_STOP_TIMEOUT_SEC: "2",
    ...ADMISSION_OFF,
    ...(keyFile ? { BERTH_SECRET_KEY_FILE: keyFile } : {}),
    ...(await storeEnvFor(storeDir)),
    ...env,
  };
  const config = loadConfig(configEnv);
  let berth: Berth;
  try {
    berth = await Berth.open(config, { logDestination: logStream, ...options });
  } catch (err) {
    // A berth that refuses to start (a test of its refusals) leaves nothing behind either.
    await rm(dataDir, { recursive: true, force: true });
    if (keyFile) await rm(keyFile, { force: true });
    await removeStore();
    throw err;
  }
  const port = await berth.start();
  // Where berth listens (BERTH_HOST: e.g. the cluster test bed's bridge address, which its nodes reach), or
  // the loopback when it listens everywhere.
  const host = ["0.0.0.0", "::"].includes(config.host) ? "127.0.0.1" : config.host;
  const url = `http://${host}:${port}`;
  const clients: { close(): unknown }[] = [];
  return {
    get berth() {
      return berth;
    },
    url,
    dataDir,
    logs: () => logText,
    async connect(who, options = {}) {
      const token = typeof who === "string" ? TOKENS[who] : who.token;
      const client = await connectClient(url, { token, reconnect: false, ...options });
      clients.push(client);
      return client;
    },
    async connectRaw(who) {
      const token = typeof who === "string" ? TOKENS[who] : who.token;
      const client: RawClient = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
      clients.push({ close: () => client.disconnect() });
      await new Promise<void>((resolve, reject) => {
        client.once("connect", resolve);
        client.once("connect_error", reject);
      });
      return client;
    },
    async close() {
      for (const c of clients) c.close();
      await berth.close();
      await removeInstance(berth.instanceId);
      await rm(dataDir, { recursive: true, force: true });
      if (keyFile) await rm(keyFile, { force: true });
      await removeStore();
    },
    async stop() {
      for (const c of clients) c.close();
      await berth.close();
      // With a data directory of the test's own, the helper's spare one goes; the test's stays, with its key.
      if (env.BERTH_DATA_DIR) await rm(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await berth.close();
      berth = await Berth.open(loadConfig({ ...configEnv, BERTH_PORT: String(port) }), {
        logDestination: logStream,
        ...options,
      });
      await berth.start();
    },
  };
}

/**
 * A test server for the enclosing `describe`: started before its tests,
 * closed (and everything it made removed) after them. Call it inside the
 * `describe`; hooks registered after it see a started server.
 */
export function useTestServer(
  env: Record<string, string> = {},
  options: Pick<BerthOptions, "iptables" | "egressRecheckMs" | "stewardPassMs"> = {},
): TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(env, options);
  });
  // When a test fails, what berth logged as an error since the last test says why (an INTERNAL answer's
  // cause is in berth's log only): printed with the failure, redacted as every log line is.
  let logged = 0;
  afterEach((context) => {
    const text = server?.logs() ?? "";
    const since = text.slice(logged);
    logged = text.length;
    if (context.task.result?.state !== "fail") return;
    const errors = since.split("\n").filter((line) => /"level":(50|60)/.test(line));
    if (errors.length > 0)
      process.stderr.write(`berth's errors during "${context.task.name}":\n${errors.join("\n")}\n`);
  });
  afterAll(async () => {
    await server?.close();
  });
  const started = (): TestServer => {
    if (!server) throw new Error("the test server has not started");
    return server;
  };
  return {
    get berth() {
      return started().berth;
    },
    get url() {
      return started().url;
    },
    get dataDir() {
      return started().dataDir;
    },
    logs: () => started().logs(),
    connect: (who, options) => started().connect(who, options),
    connectRaw: (who) => started().connectRaw(who),
    close: () => started().close(),
    stop: () => started().stop(),
    restart: () => started().restart(),
  };
}

/** Removes every engine container and network that carries this instance's label. */
export async function removeInstance(instanceId: string): Promise<void> {
  const filters = { label: [`berth.instance=${instanceId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
  const networks = await docker.listNetworks({ filters });
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {}),
    ),
  );
  await removeEgressRules(instanceId);
}

/** Removes the egress filter rules this instance left (none, unless it crashed); nothing where iptables is missing. */
async function removeEgressRules(instanceId: string): Promise<void> {
  const redactor = new Redactor();
  const log = createSystemLogger({ level: "silent", redactor, destination: new PassThrough() });
  const firewall = new EgressFirewall({
    iptables: new ExecFileIptables(),
    policy: egressPolicy([], []),
    instanceId,
    log,
  });
  await firewall.sweep(new Set()).catch(() => {});
}

/**
 * Sends a contract event and resolves with its acknowledgement — through the
 * client SDK's `call` for a Client (berth's error, or a client code such as
 * TIMEOUT, as `{ ok: false, error }`), or as the bare `emitWithAck` for a
 * RawClient. For the tests that look at refusals; `ok` for the rest.
 */
export async function call<E extends ClientEvent>(
  client: Client | RawClient,
  event: E,
  payload: RequestOf<E> | unknown,
  timeoutMs = 60_000,
): Promise<AckResponse<ResultMap[E]>> {
  if (client instanceof BerthClient) {
    return settled(client.call(event, payload as RequestOf<E>, { timeoutMs }));
  }
  return (
    client.timeout(timeoutMs) as unknown as {
      emitWithAck(e: string, p: unknown): Promise<AckResponse<ResultMap[E]>>;
    }
  ).emitWithAck(event, payload);
}

/** Like `call`, but throws unless the answer is ok; returns its data. */
export async function ok<E extends ClientEvent>(
  client: Client | RawClient,
  event: E,
  payload: RequestOf<E>,
): Promise<ResultMap[E]> {
  const res = await call(client, event, payload);
  if (!res.ok) throw new Error(`${event} failed: ${JSON.stringify(res.error)}`);
  return res.data;
}
