import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { expect } from "vitest";
import { NodeAgent } from "../../agent/node-agent.ts";
import type { SocketCommunicationEvents } from "../../channel/channel-types.ts";
import { SocketCommunicationHandler } from "../../channel/socket-communication-handler.ts";
import { socketPathFor } from "../../channel/socket-path.ts";
import { RawWorkload } from "../../channel/testing/raw-workload.ts";
import { FakeDockerClient } from "../../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../../logging/secret-registry.ts";
import { createSystemLogger } from "../../logging/system-logger.ts";
import { RemoteChannels } from "../remote-channels.ts";
import {
  type AgentsTestServer,
  startAgentsTestServer,
  TEST_CREDENTIAL,
  TEST_NODE,
} from "./agents-test-server.ts";

/**
 * A test bed for a workload's channel through a node agent (RemoteChannels'
 * tests, the channel lane's): an API server's RemoteChannels, and a node agent
 * in this process whose channel side is a real SocketCommunicationHandler on a
 * temp run directory, so that workloads connect to its real Unix sockets.
 */

/** What a test closes when it ends, last first. */
export type Closers = Array<() => unknown>;

export const ID = "C0123456789A";
export const OTHER_ID = "C0123456789B";
export const OTHER_NODE = "n1otherotherotherotherothe";
// A workload's own uid, as berth hands out; the test runs as root, so it still connects to the socket.
export const OWNER = { uid: 100_123, gid: 100_123 };
export const MAX_FRAME_BYTES = 64 * 1024;
/** The API server's own limit, lower than the agent's here: what an agent passes on is bounded by it. */
export const API_MAX_FRAME_BYTES = 4 * 1024;

export const silent = () =>
  createSystemLogger({
    level: "silent",
    redactor: new SecretRegistry().system,
    destination: new PassThrough(),
  });

export interface Bed {
  server: AgentsTestServer;
  hub: SocketCommunicationHandler;
  runDir: string;
  placements: Map<string, string>;
  channels: RemoteChannels;
  startAgent: () => NodeAgent;
  /** Every event RemoteChannels emitted, in order. */
  events: Array<[keyof SocketCommunicationEvents, ...unknown[]]>;
  /** While `until` is pending, the API side's reads of a placement wait (a slow store). */
  hold: { until: Promise<void> };
}

/**
 * An API server's RemoteChannels, and a node agent whose channel side is a real
 * SocketCommunicationHandler on a temp run directory: workloads connect to its real Unix sockets.
 */
export async function bed(closers: Closers, options: { channelLanes?: boolean } = {}): Promise<Bed> {
  const server = await startAgentsTestServer(options);
  closers.push(server.close);
  const runDir = await mkdtemp(join(tmpdir(), "berth-rc-"));
  closers.push(() => rm(runDir, { recursive: true, force: true }));
  const hub = new SocketCommunicationHandler({
    runDir,
    maxFrameBytes: MAX_FRAME_BYTES,
    maxRequestTimeoutMs: 30_000,
    heartbeatIntervalMs: 0,
    log: silent(),
  });
  closers.push(() => hub.closeAll());
  const startAgent = () => {
    const agent = new NodeAgent({
      servers: [server.url],
      credential: TEST_CREDENTIAL,
      identity: TEST_NODE,
      docker: new FakeDockerClient(),
      channels: hub,
      log: silent(),
      minDelayMs: 50,
      maxDelayMs: 200,
    });
    agent.start();
    closers.push(() => agent.close());
    return agent;
  };
  const placements = new Map<string, string>();
  const hold = { until: Promise.resolve() };
  const channels = new RemoteChannels({
    registry: server.registry,
    nodeOf: async (id) => {
      await hold.until;
      return placements.get(id);
    },
    // Every push judged by the placement as it is now: the tests move placements and expect the move heard.
    placementFreshMs: 0,
    maxFrameBytes: API_MAX_FRAME_BYTES,
    maxRequestTimeoutMs: 30_000,
    log: server.log,
  });
  closers.push(() => channels.closeAll());
  const events: Bed["events"] = [];
  for (const event of ["message", "connected", "disconnected", "bad_hello"] as const)
    channels.on(event, (...args: unknown[]) => events.push([event, ...args]));
  return { server, hub, runDir, placements, channels, startAgent, events, hold };
}

/** A bed whose agent is connected, with ID placed on its node and opened, and a workload said hello on it. */
export async function connectedBed(closers: Closers, options: { channelLanes?: boolean } = {}) {
  const b = await bed(closers, options);
  const agent = b.startAgent();
  await expect.poll(() => b.server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
  b.placements.set(ID, TEST_NODE.nodeId);
  await b.channels.open(ID, OWNER);
  const hello = b.channels.waitForHello(ID, { fresh: true });
  const workload = await RawWorkload.hello(socketPathFor(b.runDir, ID), { app: "probe" });
  closers.push(() => workload.destroy());
  return { ...b, agent, workload, hello: await hello };
}
