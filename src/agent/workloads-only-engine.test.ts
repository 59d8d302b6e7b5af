import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workloadBody } from "../agent-link/testing/workload-body.ts";
import type { ContainerCreateBody } from "../docker/docker-client.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { AgentWorkloadFiles } from "./agent-workload-files.ts";
import { WorkloadsOnlyEngine } from "./workloads-only-engine.ts";

const ID = "Cagentlinktest01";

describe("the node's engine as an agent serves it (WorkloadsOnlyEngine)", () => {
  let root: string;
  let docker: FakeDockerClient;
  let engine: WorkloadsOnlyEngine;
  let foreign: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-agent-root-"));
    docker = new FakeDockerClient();
    engine = new WorkloadsOnlyEngine(docker, { mountRoot: root });
    // A container of the node that berth did not make (the cluster's PostgreSQL, say).
    foreign = await docker.createContainer({
      name: "postgres",
      Image: "postgres:17",
      Env: ["POSTGRES_PASSWORD=hunter2"],
      Labels: {},
    } as unknown as ContainerCreateBody);
    await docker.startContainer(foreign);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** berth's create body with its socket and code directories at these paths. */
  const bodyWith = (socketDir: string, codeDir = join(root, "code", ID)) =>
    workloadBody({ id: ID, socketDir, codeDir, hasCode: true });

  it("leaves the node's other containers alone: not stopped, removed, started, read or listed", async () => {
    await expect(engine.stopContainer(foreign, 0)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(engine.removeContainer(foreign)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(engine.containerLogs(foreign, 10)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await engine.inspectContainer(foreign)).toBeUndefined();
    expect(docker.containers.get(foreign)?.state).toBe("running");
    expect(await engine.listContainers({})).toEqual([]);
  });

  it("makes and drives berth's own workload, its directories under the agent's root", async () => {
    await mkdir(join(root, "run", ID), { recursive: true });
    await mkdir(join(root, "code", ID), { recursive: true });
    const made = await engine.createContainer(bodyWith(join(root, "run", ID)));
    expect(await engine.startContainer(made)).toBe(true);
    expect((await engine.inspectContainer(made))?.Id).toBe(made);
    expect(await engine.listContainers({})).toHaveLength(1);
    await engine.stopContainer(made, 0);
    await engine.removeContainer(made);
  });

  it("refuses a mount outside its root — the engine's socket directory, the host's root, /etc", async () => {
    for (const source of ["/var/run", "/", "/etc"]) {
      await expect(engine.createContainer(bodyWith(source))).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
      });
    }
    expect(docker.containers.size).toBe(1);
  });

  it("refuses another workload's directory, a climb out of the root, and a link that leads out of it", async () => {
    await mkdir(join(root, "run", "Cotherworkload01"), { recursive: true });
    await expect(
      engine.createContainer(bodyWith(join(root, "run", "Cotherworkload01"))),
    ).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    await expect(engine.createContainer(bodyWith(`${root}/run/${ID}/../../..`))).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    await mkdir(join(root, "run"), { recursive: true });
    await symlink("/var/run", join(root, "run", ID));
    await expect(engine.createContainer(bodyWith(join(root, "run", ID)))).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    expect(docker.containers.size).toBe(1);
  });

  it("accepts the directories its own files are laid out in, and refuses another workload's", async () => {
    // The agent's files and its engine agree: what AgentWorkloadFiles lays out is what a create may mount.
    const files = new AgentWorkloadFiles(root);
    const [mine, other] = ["C0123456789A", "C0123456789B"];
    await files.layOut(mine, undefined, { push: () => {} });
    await files.layOut(other, undefined, { push: () => {} });
    expect(files.codeDir(mine)).toBe(join(root, "data", "code", mine));
    expect(files.socketDir(mine)).toBe(join(root, "run", mine));
    const body = (socketDir: string, codeDir: string) =>
      workloadBody({ id: mine, socketDir, codeDir, hasCode: true });
    await expect(
      engine.createContainer(body(files.socketDir(mine), files.codeDir(mine))),
    ).resolves.toBeTypeOf("string");
    await expect(
      engine.createContainer(body(files.socketDir(other), files.codeDir(mine))),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(
      engine.createContainer(body(files.socketDir(mine), files.codeDir(other))),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    expect(docker.containers.size).toBe(2); // the node's own container and the one accepted
  });

  it("refuses a container without berth's label", async () => {
    const body = bodyWith(join(root, "run", ID));
    await expect(engine.createContainer({ ...body, Labels: {} })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });
});
