import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CallAnswer, Push } from "../agent-link/agent-link-contract.ts";
import { workloadBody } from "../agent-link/testing/workload-body.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError } from "../errors/errors.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EngineCallServer } from "./engine-call-server.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });
/** A guard against waiting for ever, with room for a busy machine (expect.poll's own default is one second). */
const GUARD = { timeout: 15_000 };

function setUp() {
  const docker = new FakeDockerClient();
  const pushes: Push[] = [];
  const server = new EngineCallServer(docker, (p) => pushes.push(p), log);
  let next = 0;
  const call = (method: string, args: unknown[], id = String(++next)): Promise<CallAnswer> =>
    new Promise((resolve) => void server.call({ kind: "engine", id, method, args }, resolve));
  return { docker, pushes, server, call };
}

describe("EngineCallServer, serving an API server's engine calls on the agent", () => {
  it("runs a call of the allow-list on its engine and answers its value", async () => {
    const { docker, call } = setUp();
    const created = await call("createContainer", [workloadBody()]);
    expect(created).toMatchObject({ ok: true, value: expect.any(String) });
    const id = (created as { value: string }).value;
    expect(await call("startContainer", [id])).toEqual({ ok: true, value: true });
    expect(await call("stopContainer", [id, 2])).toEqual({ ok: true, value: null });
    expect(docker.containers.get(id)?.state).toBe("exited");
    expect(await call("inspectImage", ["nothing:here"])).toMatchObject({ ok: true });
    expect(await call("inspectContainer", ["berth-nobody"])).toEqual({ ok: true, value: null });
  });

  it("refuses a method that is not on the allow-list, before the engine sees anything", async () => {
    const { docker, call } = setUp();
    for (const method of ["containerStats", "ensureNetwork", "constructor", "__proto__", "exec"]) {
      const answer = await call(method, []);
      expect(answer, method).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    }
    expect(docker.calls).toEqual([]);
  });

  it("refuses arguments that do not fit the method, and a create body that is not berth's hardened one", async () => {
    const { docker, call } = setUp();
    const privileged = workloadBody();
    privileged.HostConfig = { ...privileged.HostConfig, Privileged: true };
    for (const [method, args] of [
      ["createContainer", [privileged]],
      ["stopContainer", ["abc", "soon"]],
      ["startContainer", ["../../x"]],
      ["listContainers", [{ a: 1 }]],
      ["ping", ["extra"]],
    ] as const) {
      const answer = await call(method, [...args]);
      expect(answer, method).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    }
    expect(docker.calls).toEqual([]);
  });

  it("refuses an envelope of an unknown kind, or without an id", async () => {
    const { server } = setUp();
    const answers: CallAnswer[] = [];
    await server.call({ kind: "workload", id: "1", method: "ping", args: [] }, (a: CallAnswer) =>
      answers.push(a),
    );
    await server.call({ kind: "engine", method: "ping", args: [] }, (a: CallAnswer) => answers.push(a));
    expect(answers.map((a) => a.ok)).toEqual([false, false]);
  });

  it("answers the engine's failure as berth's wire error, with the engine's status", async () => {
    const { docker, call } = setUp();
    docker.failNext(
      "startContainer",
      new DockerError("The container engine could not start the container.", 409),
    );
    const answer = await call("startContainer", ["abc"]);
    expect(answer).toEqual({
      ok: false,
      error: {
        code: "DOCKER_ERROR",
        category: "docker",
        message: "The container engine could not start the container.",
        retryable: false,
        statusCode: 409,
      },
    });
  });

  it("aborts a wait when the API server cancels it", async () => {
    const { call, server } = setUp();
    const created = (await call("createContainer", [workloadBody()])) as { value: string };
    await call("startContainer", [created.value]);
    const waiting = call("waitForExit", [created.value], "w1");
    await expect.poll(() => server.inFlight, GUARD).toBe(1);
    server.cancel({ id: "w1" });
    expect(await waiting).toMatchObject({ ok: false });
    expect(server.inFlight).toBe(0);
  });

  it("pushes the engine's events of a subscription under the call's id, until cancelled", async () => {
    const { docker, pushes, server, call } = setUp();
    expect(await call("streamEvents", [{ "berth.managed": "true" }, 0], "s1")).toEqual({
      ok: true,
      value: null,
    });
    docker.emitEvent({ action: "start", dockerId: "d1", labels: {}, time: 1 });
    expect(pushes).toEqual([
      {
        kind: "engine-event",
        subscription: "s1",
        event: { action: "start", dockerId: "d1", labels: {}, time: 1 },
      },
    ]);
    server.cancel({ id: "s1" });
    expect(docker.eventListeners.size).toBe(0);
    expect(server.subscriptions).toBe(0);
  });

  it("tells the API server when the engine's event stream ends by itself", async () => {
    const { docker, pushes, call } = setUp();
    await call("streamEvents", [{}, 0], "s1");
    docker.dropEventStreams();
    await expect
      .poll(() => pushes.at(-1), GUARD)
      .toEqual({ kind: "engine-events-ended", subscription: "s1" });
  });

  it("aborts every wait and closes every subscription when the connection ends", async () => {
    const { docker, server, call } = setUp();
    const created = (await call("createContainer", [workloadBody()])) as { value: string };
    await call("startContainer", [created.value]);
    await call("streamEvents", [{}, 0], "s1");
    const waiting = call("waitForExit", [created.value], "w1");
    await expect.poll(() => server.inFlight, GUARD).toBe(1);
    server.close();
    server.close();
    // The wait is aborted, and its answer never sent: nobody waits for it on the connection that ended.
    await expect.poll(() => server.inFlight, GUARD).toBe(0);
    const answered = await Promise.race([
      waiting.then(() => "answered"),
      new Promise((r) => setTimeout(r, 50, "none")),
    ]);
    expect(answered).toBe("none");
    expect(docker.eventListeners.size).toBe(0);
    // The container itself runs on: the connection's end is not the workload's.
    expect(docker.containers.get(created.value)?.state).toBe("running");
  });
});
