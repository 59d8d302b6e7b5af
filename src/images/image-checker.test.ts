import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/config.ts";
import { ContainerPaths } from "../containers/container-paths.ts";
import type { ContainerCreateBody } from "../docker/docker-client.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError } from "../errors/errors.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { ImageChecker } from "./image-checker.ts";

const IMAGE = "acme/bot:1";
const admin = { owner: "admin", admin: true };

describe("ImageChecker, over a fake engine", () => {
  let dataDir: string;
  let docker: FakeDockerClient;
  let checker: ImageChecker;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "bic-"));
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_READY_TIMEOUT_MS: "2000" });
    docker = new FakeDockerClient();
    docker.images = new Map([
      [
        IMAGE,
        {
          entrypoint: [],
          cmd: ["node", "index.js"],
          labels: { "berth.runtime": "node", "berth.entry": "index.js" },
        },
      ],
    ]);
    const log = createSystemLogger({
      level: "silent",
      redactor: new Redactor(),
      destination: new PassThrough(),
    });
    checker = new ImageChecker({
      config,
      docker,
      paths: new ContainerPaths(dataDir, config.runDir),
      instanceId: "test-instance",
      isUidTaken: () => false,
      log,
    });
  });

  afterEach(async () => {
    await checker.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function leftBehind(): Promise<string[]> {
    const list = async (dir: string) =>
      (await readdir(join(dataDir, dir)).catch(() => [])).map((e) => `${dir}/${e}`);
    return [
      ...[...docker.containers.keys()].map((id) => `container ${id}`),
      ...(await list("code")),
      ...(await list("run")),
    ];
  }

  it("hardens its throwaway container exactly as berth hardens a workload, in the code's current release", async () => {
    const start = docker.startContainer.bind(docker);
    docker.startContainer = async (id) => {
      const started = await start(id);
      setImmediate(() => docker.exit(id, 2));
      return started;
    };
    const result = await checker.check(admin, { image: IMAGE }, new Redactor());
    const body = docker.calls.find((c) => c.method === "createContainer")?.arg as ContainerCreateBody;
    expect(body.WorkingDir).toBe("/run/berth-code/current");
    expect(body.User).toMatch(/^(\d+):\1$/);
    expect(body.NetworkDisabled).toBe(true);
    expect(body.Labels).toMatchObject({
      "berth.managed": "true",
      "berth.instance": "test-instance",
      "berth.check": "image",
    });
    expect(body.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      NetworkMode: "none",
      Privileged: false,
      Init: true,
    });
    expect(body.HostConfig?.Mounts?.map((m) => [m.Target, m.ReadOnly])).toEqual([
      ["/run/berth", true],
      ["/run/berth-code", true],
    ]);
    expect(result).toMatchObject({ ok: false, code: "probe", exitCode: 2 });
    expect(await leftBehind()).toEqual([]);
  });

  it("removes what it made when the engine refuses the start, and blames the working directory when the engine says so", async () => {
    const refusal = Object.assign(new Error("(HTTP code 400) unexpected"), {
      json: {
        message: `OCI runtime create failed: chdir to cwd ("/run/berth-code/current") set in config.json failed: permission denied`,
      },
    });
    docker.failNext(
      "startContainer",
      new DockerError("The container engine could not start the container.", 400, { cause: refusal }),
    );
    const result = await checker.check(admin, { image: IMAGE }, new Redactor());
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
    expect(byName.start?.status).toBe("failed");
    expect(byName.start?.summary).toContain("chdir to cwd");
    expect(byName.workdir?.status).toBe("failed");
    expect(byName.connect?.status).toBe("skipped");
    expect(await leftBehind()).toEqual([]);
  });

  it("removes what it made when the engine refuses the create", async () => {
    docker.failNext(
      "createContainer",
      new DockerError("The container engine could not create the container.", 400),
    );
    const result = await checker.check(admin, { image: IMAGE }, new Redactor());
    expect(result.checks.find((c) => c.name === "start")?.status).toBe("failed");
    expect(await leftBehind()).toEqual([]);
  });

  it("refuses code with a path that climbs out, before it makes anything", async () => {
    await expect(
      checker.check(admin, { image: IMAGE, code: { files: { "../x.js": "1" } } }, new Redactor()),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    expect(docker.calls.map((c) => c.method)).toEqual([]);
    expect(await leftBehind()).toEqual([]);
  });
});
