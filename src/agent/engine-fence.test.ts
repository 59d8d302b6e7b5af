import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CallAnswer } from "../agent-link/agent-link-contract.ts";
import { workloadBody } from "../agent-link/testing/workload-body.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EngineCallServer } from "./engine-call-server.ts";
import { EngineFence } from "./engine-fence.ts";
import { GenerationFence } from "./generation-fence.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });
const ID = "Cenginefence01";

function setUp() {
  const docker = new FakeDockerClient();
  const lease = { held: true };
  const generations = new GenerationFence();
  const server = new EngineCallServer(
    docker,
    () => undefined,
    log,
    undefined,
    undefined,
    new EngineFence(lease, generations, docker),
  );
  let next = 0;
  const call = (method: string, args: unknown[]): Promise<CallAnswer> =>
    new Promise((resolve) => void server.call({ kind: "engine", id: String(++next), method, args }, resolve));
  const created = async (generation: number) => {
    const answer = await call("createContainer", [workloadBody({ id: ID, generation })]);
    expect(answer).toMatchObject({ ok: true });
    return (answer as { value: string }).value;
  };
  return { docker, lease, generations, call, created };
}

describe("the agent's fence on creates and starts (EngineFence)", () => {
  it("learns a workload's generation from its create body, and refuses a create or a start of an older copy", async () => {
    const { docker, generations, call, created } = setUp();
    const first = await created(1);
    expect(generations.known(ID)).toBe(1);
    const second = await created(3); // the workload came back to this node under a newer placement
    expect(generations.known(ID)).toBe(3);
    expect(await call("createContainer", [workloadBody({ id: ID, generation: 2 })])).toMatchObject({
      ok: false,
      error: { code: "STALE_PLACEMENT", retryable: true, details: { generation: 2, known: 3 } },
    });
    expect(await call("startContainer", [first])).toMatchObject({
      ok: false,
      error: { code: "STALE_PLACEMENT" },
    });
    expect(docker.containers.get(first)?.state).toBe("created");
    expect(await call("startContainer", [second])).toEqual({ ok: true, value: true });
    // The old copy is still stopped and removed as any other: that is how a stale copy is cleared.
    expect(await call("removeContainer", [first])).toEqual({ ok: true, value: null });
  });

  it("reads the generation of a copy it did not make (an agent restarted) from the copy's labels before a start", async () => {
    const { docker, call, created } = setUp();
    const old = await docker.createContainer(workloadBody({ id: ID, generation: 1 }));
    await created(2);
    expect(await call("startContainer", [old])).toMatchObject({
      ok: false,
      error: { code: "STALE_PLACEMENT" },
    });
    expect(docker.calls.filter((c) => c.method === "inspectContainer").map((c) => c.arg)).toEqual([old]);
  });

  it("makes and starts nothing while its lease has lapsed (retryable), and stops and removes still", async () => {
    const { docker, lease, call, created } = setUp();
    const running = await created(1);
    await call("startContainer", [running]);
    lease.held = false;
    const creates = docker.calls.filter((c) => c.method === "createContainer").length;
    expect(
      await call("createContainer", [workloadBody({ id: "Cenginefence02", generation: 1 })]),
    ).toMatchObject({
      ok: false,
      error: { code: "DOCKER_UNAVAILABLE", retryable: true, details: { reason: "fenced" } },
    });
    expect(docker.calls.filter((c) => c.method === "createContainer")).toHaveLength(creates);
    expect(await call("stopContainer", [running, 1])).toEqual({ ok: true, value: null });
    expect(await call("startContainer", [running])).toMatchObject({
      ok: false,
      error: { code: "DOCKER_UNAVAILABLE" },
    });
    expect(docker.containers.get(running)?.state).toBe("exited");
    lease.held = true;
    expect(await call("startContainer", [running])).toEqual({ ok: true, value: true });
  });

  it("lets a body without a generation through (single-host berth labels none)", async () => {
    const { call } = setUp();
    expect(await call("createContainer", [workloadBody({ id: ID })])).toMatchObject({ ok: true });
  });
});
