import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CallAnswer } from "../agent-link/agent-link-contract.ts";
import { ContainerIdSchema } from "../agent-link/channel-ops.ts";
import { workloadBody } from "../agent-link/testing/workload-body.ts";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import { socketPathFor } from "../channel/socket-path.ts";
import { RawWorkload } from "../channel/testing/raw-workload.ts";
import { CONTAINER_ID_PATTERN, newContainerId } from "../containers/container-id.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { agentRunDir } from "./agent-run-dir.ts";
import { ChannelCallServer } from "./channel-call-server.ts";
import { GenerationFence } from "./generation-fence.ts";
import { WorkloadsOnlyEngine } from "./workloads-only-engine.ts";

const ID = "C0123456789A";
const OWNER = { uid: 100_123, gid: 100_123 };

describe("the channel calls a node agent serves (ChannelCallServer)", () => {
  let root: string;
  let hub: SocketCommunicationHandler;
  let server: ChannelCallServer;
  let generations: GenerationFence;
  let next = 0;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-agent-channels-"));
    const log = createSystemLogger({
      level: "silent",
      redactor: new SecretRegistry().system,
      destination: new PassThrough(),
    });
    hub = new SocketCommunicationHandler({
      runDir: agentRunDir(root),
      maxFrameBytes: 64 * 1024,
      maxRequestTimeoutMs: 30_000,
      heartbeatIntervalMs: 0,
      log,
    });
    generations = new GenerationFence();
    server = new ChannelCallServer(hub, log, generations);
  });
  afterEach(async () => {
    server.close();
    await hub.closeAll();
    await rm(root, { recursive: true, force: true });
  });

  /** The answer to one call (`op`, `args`) under a fresh id, stamped with `generation` if given. */
  function call(op: string, args: unknown[], id = String(++next), generation?: number): Promise<CallAnswer> {
    const envelope = { kind: "channel", id, op, args, ...(generation === undefined ? {} : { generation }) };
    return new Promise((resolve) => void server.call(envelope, resolve));
  }

  it("opens a socket whose directory the agent's engine lets that container, and only it, mount", async () => {
    expect(await call("open", [ID, OWNER])).toEqual({ ok: true, value: null });
    const socketDir = dirname(socketPathFor(agentRunDir(root), ID));
    expect((await stat(socketDir)).isDirectory()).toBe(true);
    // The code directories exist, so that only the socket directory is judged.
    for (const id of [ID, "C0123456789B"]) await mkdir(join(root, "code", id), { recursive: true });
    const engine = new WorkloadsOnlyEngine(new FakeDockerClient(), { mountRoot: root });
    const body = (id: string) =>
      workloadBody({ id, socketDir, codeDir: join(root, "code", id), hasCode: false });
    await expect(engine.createContainer(body(ID))).resolves.toEqual(expect.any(String));
    await expect(engine.createContainer(body("C0123456789B"))).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });

  it("refuses, before the hub sees it, a name that is not a berth container id, root's uid, another group", async () => {
    for (const args of [
      ["../../etc", OWNER],
      ["C0123456789A/../x", OWNER],
      [ID, { uid: 0, gid: 0 }],
      [ID, { uid: 100_123, gid: 999 }],
      [ID, OWNER, "extra", "args", "beyond"],
    ]) {
      const answer = await call("open", args);
      expect(answer, JSON.stringify(args)).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    }
    expect(await call("constructor", [ID])).toMatchObject({
      ok: false,
      error: { code: "VALIDATION_FAILED" },
    });
    expect(hub.openIds).toEqual([]);
  });

  it("refuses a malformed request as its schemas say, with the issue's path, before the hub sees it", async () => {
    await call("open", [ID, OWNER]);
    const refused = (raw: Record<string, unknown>) =>
      new Promise<CallAnswer>(
        (resolve) => void server.call({ kind: "channel", id: String(++next), ...raw }, resolve),
      );
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ op: "request", args: ["../../etc", "x", 1_000] }, "0"],
      [{ op: "request", args: [ID, "x", 0] }, "2"],
      [{ op: "request", args: [ID, "x", 3_600_001] }, "2"],
      [{ op: "request", args: [ID, "x", 1.5] }, "2"],
      [{ op: "request", args: [ID, "x"] }, ""],
      [{ op: "request", args: [ID, "x", 1_000], extra: 3 }, ""],
      [{ op: "request", args: [ID, "x", 1_000], generation: 0 }, "generation"],
    ];
    for (const [raw, path] of cases) {
      const answer = await refused(raw);
      expect(answer, JSON.stringify(raw)).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
      const { issues } = (answer as unknown as { error: { details: { issues: Array<{ path: string }> } } })
        .error.details;
      if (path) expect(issues[0]?.path).toBe(path);
    }
    // The hub would have answered a request it saw with CHANNEL_NOT_CONNECTED (no workload said hello).
    expect(await refused({ op: "request", args: [ID, "x", 1_000] })).toMatchObject({
      ok: false,
      error: { code: "CHANNEL_NOT_CONNECTED" },
    });
  });

  it("answers a call for a channel it was not asked to open as the local hub does", async () => {
    expect(await call("send", [ID, "x"])).toMatchObject({
      ok: false,
      error: { code: "CHANNEL_NOT_CONNECTED" },
    });
    expect(await call("request", [ID, "x", 1_000])).toMatchObject({
      ok: false,
      error: { code: "CHANNEL_NOT_CONNECTED" },
    });
  });

  it("stops a wait for a hello on cancel, and every wait when its connection ends", async () => {
    await call("open", [ID, OWNER]);
    const cancelled = call("waitForHello", [ID, true], "w1");
    const ended = call("waitForHello", [ID, true], "w2");
    await expect.poll(() => server.inFlight).toBe(2);
    server.cancel({ id: "w1" });
    expect(await cancelled).toMatchObject({ ok: false });
    expect(server.inFlight).toBe(1);
    server.close();
    await expect.poll(() => server.inFlight).toBe(0);
    // The answer of a call whose connection ended is never sent.
    expect(await Promise.race([ended, new Promise((r) => setImmediate(() => r("unanswered")))])).toBe(
      "unanswered",
    );
  });

  it("refuses a call routed by an older placement than it was told of, before the hub sees it", async () => {
    expect(await call("open", [ID, OWNER], undefined, 2)).toEqual({ ok: true, value: null });
    expect(generations.known(ID)).toBe(2);
    const hello = hub.waitForHello(ID, { fresh: true });
    const workload = await RawWorkload.hello(socketPathFor(agentRunDir(root), ID));
    await hello;
    workload.serve((data) => ({ echo: data }));
    expect(await call("request", [ID, "stale", 1_000], undefined, 1)).toMatchObject({
      ok: false,
      error: {
        code: "STALE_PLACEMENT",
        retryable: true,
        details: { containerId: ID, generation: 1, known: 2 },
      },
    });
    expect(await call("send", [ID, "stale"], undefined, 1)).toMatchObject({
      error: { code: "STALE_PLACEMENT" },
    });
    // The current placement's calls, and a newer one's, are served; the newer one is learnt.
    expect(await call("request", [ID, "now", 1_000], undefined, 2)).toEqual({
      ok: true,
      value: { echo: "now" },
    });
    expect(await call("request", [ID, "newer", 1_000], undefined, 3)).toEqual({
      ok: true,
      value: { echo: "newer" },
    });
    expect(await call("request", [ID, "stale", 1_000], undefined, 2)).toMatchObject({
      error: { code: "STALE_PLACEMENT" },
    });
    expect(workload.frames).toEqual([]);
    await workload.destroy();
  });

  it("names channels as berth names containers (the link's pattern is lifecycle's own)", () => {
    for (let i = 0; i < 50; i++) expect(ContainerIdSchema.safeParse(newContainerId()).success).toBe(true);
    expect(ContainerIdSchema.safeParse("Cagentlinktest01").success).toBe(
      CONTAINER_ID_PATTERN.test("Cagentlinktest01"),
    );
  });
});
