import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workloadBody } from "../agent-link/testing/workload-body.ts";
import { ChannelNotConnectedError } from "../channel/channel-errors.ts";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import { socketPathFor } from "../channel/socket-path.ts";
import { RawWorkload } from "../channel/testing/raw-workload.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { AgentLease } from "./agent-lease.ts";
import { FencedChannels } from "./fenced-channels.ts";
import { GenerationFence } from "./generation-fence.ts";
import { NodeFence } from "./node-fence.ts";
import { FakeLeaseClock } from "./testing/fake-lease-clock.ts";

const ID = "C0123456789A";
const OWNER = { uid: 100_123, gid: 100_123 };
const LEASE_MS = 8_000;
const GRACE_MS = 60_000;

describe("a node agent fencing itself as its lease lapses (NodeFence)", () => {
  let root: string;
  let hub: SocketCommunicationHandler;
  let channels: FencedChannels;
  let clock: FakeLeaseClock;
  let lease: AgentLease;
  let docker: FakeDockerClient;
  let fence: NodeFence;
  let logs: string[];
  /** How many times the fence was lifted (the agent then sends every server a snapshot). */
  let lifted: number;
  const workloads: RawWorkload[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-fence-"));
    logs = [];
    lifted = 0;
    const destination = new PassThrough();
    destination.on("data", (line: Buffer) => logs.push(line.toString()));
    const log = createSystemLogger({ level: "info", redactor: new SecretRegistry().system, destination });
    hub = new SocketCommunicationHandler({
      runDir: root,
      maxFrameBytes: 64 * 1024,
      maxRequestTimeoutMs: 30_000,
      heartbeatIntervalMs: 0,
      log,
    });
    channels = new FencedChannels(hub, log);
    clock = new FakeLeaseClock();
    lease = new AgentLease({ leaseMs: LEASE_MS, graceMs: GRACE_MS, clock });
    docker = new FakeDockerClient();
    fence = new NodeFence({
      lease,
      channels,
      docker,
      generations: new GenerationFence(),
      stopTimeoutSec: 7,
      onLifted: () => lifted++,
      log,
    });
  });
  afterEach(async () => {
    fence.close();
    lease.close();
    for (const w of workloads.splice(0)) await w.destroy();
    await hub.closeAll();
    await rm(root, { recursive: true, force: true });
  });

  async function connected(): Promise<RawWorkload> {
    const hello = channels.waitForHello(ID, { fresh: true });
    const workload = await RawWorkload.hello(socketPathFor(root, ID));
    workloads.push(workload);
    await hello;
    return workload;
  }

  async function running(id: string, generation: number): Promise<string> {
    const dockerId = await docker.createContainer(workloadBody({ id, generation }));
    await docker.startContainer(dockerId);
    return dockerId;
  }

  it("closes every channel once no server renewed the lease for a lease, and refuses channel calls", async () => {
    await channels.open(ID, OWNER);
    const workload = await connected();
    workload.serve((data) => data);
    clock.advance(LEASE_MS - 1);
    await expect(channels.request(ID, "still served")).resolves.toBe("still served");
    clock.advance(1);
    await workload.closed; // the workload sees its socket go, as at an agent's restart
    await expect.poll(() => hub.openIds).toEqual([]);
    for (const call of [
      () => channels.request(ID, "x"),
      () => channels.send(ID, "x"),
      () => channels.ping(ID),
      () => channels.waitForHello(ID),
      () => channels.open(ID, OWNER),
    ])
      await expect(call()).rejects.toMatchObject({
        constructor: ChannelNotConnectedError,
        details: { reason: "fenced" },
      });
    expect(logs.join("")).toContain("no API server has renewed this agent's lease: fencing its channels");
  });

  it("stops the node's running workloads after the grace, with the usual stop grace, and leaves the rest", async () => {
    const a = await running("Cfencetest001", 1);
    const b = await running("Cfencetest002", 3);
    const exited = await docker.createContainer(workloadBody({ id: "Cfencetest003" }));
    clock.advance(LEASE_MS);
    expect(docker.calls.filter((c) => c.method === "stopContainer")).toEqual([]);
    clock.advance(GRACE_MS);
    await fence.stopping;
    expect(docker.calls.filter((c) => c.method === "stopContainer").map((c) => c.arg)).toEqual([
      { dockerId: a, timeoutSec: 7 },
      { dockerId: b, timeoutSec: 7 },
    ]);
    expect([a, b, exited].map((id) => docker.containers.get(id)?.state)).toEqual([
      "exited",
      "exited",
      "created",
    ]);
    expect(logs.join("")).toContain("still no renewal after the grace: stopping this node's workloads");
  });

  it("serves channel calls again at a renewal and tells the servers; the workloads it stopped stay stopped", async () => {
    const dockerId = await running("Cfencetest001", 1);
    await channels.open(ID, OWNER);
    const before = await connected();
    clock.advance(LEASE_MS + GRACE_MS);
    await before.closed;
    await fence.stopping;
    expect(lifted).toBe(0);
    lease.renew(30_000);
    // The agent opens nothing by itself: each server, told, opens again what is still placed here.
    await expect.poll(() => lifted).toBe(1);
    expect(hub.openIds).toEqual([]);
    await channels.open(ID, OWNER);
    await expect
      .poll(() =>
        stat(socketPathFor(root, ID)).then(
          (s) => s.uid,
          () => undefined,
        ),
      )
      .toBe(OWNER.uid);
    const again = await connected();
    again.serve((data) => ({ back: data }));
    await expect(channels.request(ID, 1)).resolves.toEqual({ back: 1 });
    expect(docker.containers.get(dockerId)?.state).toBe("exited");
    expect(docker.calls.filter((c) => c.method === "startContainer")).toHaveLength(1); // its own start above
    expect(logs.join("")).toContain("lease renewed: serving this node's channels again");
  });

  it("starts a copy it stopped again once a server opens its channel under that copy's generation, and not one placed anew", async () => {
    const here = await running("Cfencetest001", 2);
    const movedBack = await running("Cfencetest002", 1);
    const generations = new GenerationFence();
    fence.close();
    fence = new NodeFence({ lease, channels, docker, generations, stopTimeoutSec: 7, log: logsOf() });
    channels.onOpened = (id) => void fence.channelOpened(id);
    await fence.learnGenerations();
    clock.advance(LEASE_MS + GRACE_MS);
    await fence.stopping;
    lease.renew(30_000);
    await channels.lift();
    // A server routing by the current placement: generation 2 for the first (as its copy), 3 for the second
    // (placed here anew, say moved away and back, while its old copy was stopped).
    generations.check("Cfencetest001", 2);
    await channels.open("Cfencetest001", OWNER);
    generations.check("Cfencetest002", 3);
    await channels.open("Cfencetest002", OWNER);
    await expect.poll(() => docker.containers.get(here)?.state).toBe("running");
    expect(docker.containers.get(movedBack)?.state).toBe("exited");
    // Once only: a later open of the same channel starts nothing.
    await docker.stopContainer(here, 1);
    await channels.open("Cfencetest001", OWNER);
    expect(docker.containers.get(here)?.state).toBe("exited");
  });

  it("learns the generations of the copies already on its engine", async () => {
    const generations = new GenerationFence();
    await running("Cfencetest001", 4);
    const learning = new NodeFence({
      lease,
      channels,
      docker,
      generations,
      stopTimeoutSec: 1,
      log: logsOf(),
    });
    await learning.learnGenerations();
    learning.close();
    expect(generations.known("Cfencetest001")).toBe(4);
  });
});

function logsOf() {
  return createSystemLogger({
    level: "silent",
    redactor: new SecretRegistry().system,
    destination: new PassThrough(),
  });
}
