import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { connect } from "@berth/workload";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/config.ts";
import { UidClaims } from "../containers/uid-claims.ts";
import type { ContainerCreateBody } from "../docker/docker-client.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError } from "../errors/errors.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import { MAX_CHECK_TEXT } from "./image-check-report.ts";
import { ImageChecker } from "./image-checker.ts";
import { PROBE_MARK } from "./image-probes.ts";

/** What a terminal obeys or reorders by: C0 but tab, DEL, C1, bidi overrides and isolates. */
function unsafeIn(text: string): string[] {
  return [...text].filter((c) => {
    const code = c.charCodeAt(0);
    return (
      (code < 0x20 && code !== 0x09) ||
      (code >= 0x7f && code <= 0x9f) ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069)
    );
  });
}

/** Every string in `value`, however deep. */
function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(stringsOf);
  return [];
}

const IMAGE = "acme/bot:1";
const admin = { owner: "admin", admin: true };

describe("ImageChecker, over a fake engine", () => {
  let dataDir: string;
  let docker: FakeDockerClient;
  let checker: ImageChecker;
  let paths: ContainerPaths;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "bic-"));
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_READY_TIMEOUT_MS: "2000" });
    docker = new FakeDockerClient();
    paths = new ContainerPaths(dataDir, config.runDir);
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
      files: new LocalWorkloadFiles(paths),
      instanceId: "test-instance",
      uids: new UidClaims({ isUidTaken: async () => false, insert: async () => {} }, config.uidRange, log),
      log,
    });
  });

  afterEach(async () => {
    await checker.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The workload exits with `code` as soon as it starts. */
  function exitOnStart(code: number): void {
    const start = docker.startContainer.bind(docker);
    docker.startContainer = async (id) => {
      const started = await start(id);
      setImmediate(() => docker.exit(id, code));
      return started;
    };
  }

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
      // Past this, a reconciliation may take it for an orphan: the check's bounds and a margin.
      "berth.check-until": expect.stringMatching(/^\d+$/),
    });
    const until = Number(body.Labels?.["berth.check-until"]);
    expect(until).toBeGreaterThan(Date.now() + 60_000);
    expect(until).toBeLessThan(Date.now() + 2 * 60_000);
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

  it("shows what a hostile image says only sanitised and cut: labels, command and all", async () => {
    const osc52 = "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07";
    docker.images?.set("acme/hostile:1", {
      entrypoint: [],
      cmd: ["node", `\u009b31m${osc52}\u202e`, "x".repeat(3_000_000)],
      labels: {
        "berth.runtime": `${osc52}node`,
        "berth.entry": "\u202emain.py",
        "berth.command": JSON.stringify(["node", "\u009b2J", "\u202eindex.js"]),
      },
    });
    exitOnStart(2);
    const result = await checker.check(admin, { image: "acme/hostile:1" }, new Redactor());
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
    expect(byName.labels?.status).toBe("failed");
    expect(byName.labels?.summary).toContain("berth.runtime is 'node': not a runtime berth knows");
    expect(byName.command?.status).toBe("passed");
    expect(stringsOf(result).flatMap(unsafeIn)).toEqual([]);
    for (const c of result.checks) {
      expect(c.summary.length).toBeLessThanOrEqual(MAX_CHECK_TEXT);
      expect((c.fix ?? "").length).toBeLessThanOrEqual(MAX_CHECK_TEXT);
    }
    expect(await leftBehind()).toEqual([]);
  });

  it("names a berth.entry left from the base image, which the image's own command does not run", async () => {
    // FROM berth/runtime-python:3.11, CMD ["python3", "bot.py"], LABEL berth.command="".
    docker.images?.set("acme/bot-py:1", {
      entrypoint: [],
      cmd: ["python3", "bot.py"],
      labels: { "berth.runtime": "python", "berth.entry": "main.py", "berth.command": "" },
    });
    exitOnStart(2);
    const result = await checker.check(admin, { image: "acme/bot-py:1" }, new Redactor());
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
    expect(byName.labels).toMatchObject({
      status: "failed",
      summary:
        "berth.entry is 'main.py', but the image's command (python3 bot.py) does not run it — a label left from the image it is built FROM? berth ignores it: set berth.entry to the file the command runs, or to \"\"",
    });
    expect(byName.entry?.summary).toMatch(/its berth.entry is stale: see labels/);
  });

  describe("with a workload that connects", () => {
    let workload: ReturnType<typeof connect> | undefined;
    afterEach(async () => {
      await workload?.close();
      workload = undefined;
    });

    /** On start, a workload in this process connects to the check's socket and answers with `answer`. */
    function workloadAnswering(answer: () => unknown) {
      const start = docker.startContainer.bind(docker);
      docker.startContainer = async (dockerId) => {
        const started = await start(dockerId);
        const body = docker.containers.get(dockerId)?.body as ContainerCreateBody;
        const id = body.Labels?.["berth.id"] as string;
        workload = connect({ socketPath: paths.socketPath(id), meta: { probe: PROBE_MARK } });
        workload.onRequest(answer);
        return started;
      };
    }

    it("takes an answer that is not quite the probe's for no probe's, and shows none of it", async () => {
      let odd: unknown;
      workloadAnswering(() => odd);
      for (odd of [
        { probe: PROBE_MARK, runtime: "node", cwd: "/x", uid: 5, error: 42 },
        { probe: PROBE_MARK, runtime: "node", cwd: "/x", uid: 5, entries: "\x1b]52;c;aGk=\x07" },
        { probe: PROBE_MARK, runtime: "node", cwd: 7, uid: 5 },
        { probe: PROBE_MARK, runtime: "node", cwd: "/x", uid: "0" },
      ]) {
        const result = await checker.check(admin, { image: IMAGE }, new Redactor());
        await workload?.close();
        const workdir = result.checks.find((c) => c.name === "workdir");
        expect(workdir).toMatchObject({ status: "passed" });
        expect(workdir?.summary).toMatch(/^the workload ran in \/run\/berth-code\/current as uid \d+$/);
        expect(result.ok).toBe(true);
      }
      expect(await leftBehind()).toEqual([]);
    });

    it("says the working directory is not known when the request got no answer", async () => {
      workloadAnswering(() => {
        // Goes away instead of answering: the request fails without an answer.
        void workload?.close();
        return new Promise(() => {});
      });
      const result = await checker.check(admin, { image: IMAGE }, new Redactor());
      const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
      expect(byName.connect?.status).toBe("passed");
      expect(byName.request?.status).toBe("failed");
      expect(byName.workdir).toMatchObject({
        status: "skipped",
        summary: "not known: the workload did not answer",
      });
      expect(await leftBehind()).toEqual([]);
    });
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
