import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { ChannelPort } from "../src/channel/channel-port.ts";
import { SocketCommunicationHandler } from "../src/channel/socket-communication-handler.ts";
import { socketPathFor } from "../src/channel/socket-path.ts";
import { SecretRegistry } from "../src/logging/secret-registry.ts";
import { createSystemLogger } from "../src/logging/system-logger.ts";
import { RemoteChannels } from "../src/node-agents/remote-channels.ts";
import { startAgentsTestServer, TEST_NODE } from "../src/node-agents/testing/agents-test-server.ts";
import { CLK_TCK, cpuTicks } from "./proc-stat.ts";
import { percentile, printTable } from "./stats.ts";

/**
 * The agent link's own cost, without the test bed (no root, no Swarm): a
 * request from an API server's RemoteChannels over the agent link (loopback)
 * to a node agent in a child process, on to an echo workload's Unix socket
 * and back — beside the same request through a channel hub in this process,
 * as a single-host berth makes it. Prints the round trip of each and the CPU
 * each request costs this process (the API server's side) and the agent's.
 * `AGENT_LINK_PROF=DIR` writes V8 CPU profiles of both processes to DIR.
 */
const REQUESTS = Number(process.env.AGENT_LINK_REQUESTS ?? 20_000);
const BATCH = 500;
const ID = "C0123456789A";
const OWNER = { uid: 100_123, gid: 100_123 };
const ECHO = new URL("../test/fixtures/workloads/echo.js", import.meta.url).pathname;
const AGENT = new URL("./agent-link-agent.ts", import.meta.url).pathname;
const END_WITH_PARENT = new URL("./end-with-parent.ts", import.meta.url).pathname;

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "berth-al-"));
  const children: ChildProcess[] = [];
  const server = await startAgentsTestServer({ logLevel: "warn" });
  const log = createSystemLogger({
    level: "warn",
    redactor: new SecretRegistry().system,
    destination: new PassThrough().resume(),
  });
  const local = new SocketCommunicationHandler({
    runDir: join(dir, "local"),
    maxFrameBytes: 1024 * 1024,
    maxRequestTimeoutMs: 60_000,
    log,
  });
  const remote = new RemoteChannels({
    registry: server.registry,
    nodeOf: async () => TEST_NODE.nodeId,
    placementFreshMs: 0,
    maxFrameBytes: 1024 * 1024,
    maxRequestTimeoutMs: 60_000,
    log,
  });
  try {
    // The echo workload as CommonJS (the repository's package.json says ES modules).
    const echo = join(dir, "echo.cjs");
    await copyFile(ECHO, echo);
    await mkdir(join(dir, "agent"));
    const prof = process.env.AGENT_LINK_PROF;
    const agent = spawn(
      process.execPath,
      [...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []), "--import", END_WITH_PARENT, AGENT],
      {
        env: { ...process.env, AGENT_LINK_SERVER: server.url, AGENT_LINK_RUN_DIR: join(dir, "agent") },
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    children.push(agent);
    // Measured as berth runs: over the channel lane the server offers once the link is in.
    await until(() => server.registry.agentFor(TEST_NODE.nodeId)?.hasLane === true);
    const workload = (socket: string) => {
      const child = spawn(process.execPath, [echo], {
        env: { BERTH_SOCKET: socket },
        stdio: "ignore",
      });
      children.push(child);
    };
    await remote.open(ID, OWNER);
    const remoteHello = remote.waitForHello(ID, { fresh: true });
    workload(socketPathFor(join(dir, "agent"), ID));
    await remoteHello;
    await local.open(ID, OWNER);
    const localHello = local.waitForHello(ID, { fresh: true });
    workload(socketPathFor(join(dir, "local"), ID));
    await localHello;

    const payload = { op: "echo", n: 0, text: "a small request, as a client's command would be" };
    const times = { remote: [] as number[], local: [] as number[] };
    const cpu = { remote: 0, local: 0, agent: 0 };
    const batch = async (channels: ChannelPort, into: number[]) => {
      for (let i = 0; i < BATCH; i++) {
        payload.n = i;
        const t = performance.now();
        await channels.request(ID, payload);
        into.push(performance.now() - t);
      }
    };
    // Warm both paths (JIT, buffers) before anything is counted.
    await batch(remote, []);
    await batch(local, []);
    for (let done = 0; done < REQUESTS; done += BATCH) {
      let used = process.cpuUsage();
      const ticks = cpuTicks(agent.pid!);
      await batch(remote, times.remote);
      used = process.cpuUsage(used);
      cpu.remote += used.user + used.system;
      cpu.agent += ((cpuTicks(agent.pid!) - ticks) / CLK_TCK) * 1e6;
      used = process.cpuUsage();
      await batch(local, times.local);
      used = process.cpuUsage(used);
      cpu.local += used.user + used.system;
    }
    printTable("Request round trip over the agent link (loopback) beside the local hub", "µs", [
      {
        what: "request",
        berth: times.remote.map((ms) => ms * 1000),
        baseline: times.local.map((ms) => ms * 1000),
      },
    ]);
    const per = (micros: number) => (micros / REQUESTS).toFixed(0);
    console.log(
      `\nCPU per request: API side ${per(cpu.remote)} µs through the agent, ${per(cpu.local)} µs through the local hub; the agent ${per(cpu.agent)} µs (${REQUESTS} requests a side, p50 ${percentile(times.remote, 50).toFixed(3)} ms vs ${percentile(times.local, 50).toFixed(3)} ms)`,
    );
  } finally {
    await remote.closeAll();
    await local.closeAll();
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error("the agent (and its channel lane) did not connect within 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}
