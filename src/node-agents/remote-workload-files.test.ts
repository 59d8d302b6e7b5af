import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import { AgentWorkloadFiles } from "../agent/agent-workload-files.ts";
import { NodeAgent } from "../agent/node-agent.ts";
import type { AgentIdentity } from "../agent-link/agent-link-contract.ts";
import type { CodeEntry } from "../code/code-entry.ts";
import { UndoStack } from "../containers/undo-stack.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { RemoteWorkloadFiles } from "./remote-workload-files.ts";
import { startAgentsTestServer, TEST_CREDENTIAL, TEST_NODE } from "./testing/agents-test-server.ts";

const NODE: AgentIdentity = TEST_NODE;
const CREDENTIAL = TEST_CREDENTIAL;
const ID = "C0123456789A";
const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});

const file = (path: string, content: string | Buffer, mode: 0o644 | 0o755 = 0o644): CodeEntry => ({
  path,
  kind: "file",
  content: Buffer.from(content),
  mode,
});

const closers: Array<() => unknown> = [];
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-agent-files-"));
  closers.push(() => rm(root, { recursive: true, force: true }));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * An API server's /agents namespace as berth builds it, and a node agent
 * connected to it that serves AgentWorkloadFiles under `root` (its engine a
 * fake: only its files matter here). `placed`: the workloads placed on the node.
 */
async function cluster(placed = new Set([ID])) {
  const server = await startAgentsTestServer();
  closers.push(server.close);
  const { registry } = server;
  const agent = new NodeAgent({
    servers: [server.url],
    credential: CREDENTIAL,
    identity: NODE,
    docker: new FakeDockerClient(),
    files: new AgentWorkloadFiles(root),
    log,
    minDelayMs: 50,
    maxDelayMs: 200,
  });
  const connected = once(registry, "connected");
  agent.start();
  closers.push(() => agent.close());
  await within(5_000, "the agent connected", connected);
  const files = new RemoteWorkloadFiles({
    registry,
    nodeOf: async (id) => (placed.has(id) ? NODE.nodeId : undefined),
    mountRoot: root,
  });
  return { files, registry, agent };
}

const codeDir = (id = ID) => join(root, "data", "code", id);
const socketDir = (id = ID) => join(root, "run", id);
const mode = async (path: string) => (await stat(path)).mode & 0o777;
const noUndo = { push: () => {} };

describe("RemoteWorkloadFiles, a workload's files made by its node's agent", () => {
  it("lays out, writes, switches, reads, removes a release, and removes it all — on the node's disk", async () => {
    const { files } = await cluster();
    expect(files.codeDir(ID)).toBe(codeDir());
    expect(files.socketDir(ID)).toBe(socketDir());

    await files.layOut(ID, [file("index.js", "// one\n")], noUndo);
    expect(await readFile(join(codeDir(), "current", "index.js"), "utf8")).toBe("// one\n");
    expect(await readlink(join(codeDir(), "current"))).toBe("releases/1");
    // As single-host berth makes them: readable and enterable by the workload's own uid, writable by none.
    for (const dir of [codeDir(), join(codeDir(), "releases"), join(codeDir(), "releases", "1"), socketDir()])
      expect(await mode(dir), dir).toBe(0o755);
    expect(await mode(join(codeDir(), "releases", "1", "index.js"))).toBe(0o644);

    // Bytes that are not UTF-8 arrive as they left: the entries travel as binary.
    const binary = Buffer.from([0, 0xff, 0xfe, 0x80, 10]);
    await files.writeRelease(ID, 2, [
      file("index.js", "// two\n"),
      file("bin/run", "#!/bin/sh\n", 0o755),
      file("data.bin", binary),
      { path: "lib", kind: "symlink", target: "bin" },
    ]);
    expect(await files.currentRelease(ID)).toBe(1);
    await files.switchRelease(ID, 2);
    expect(await files.currentRelease(ID)).toBe(2);
    expect(await readFile(join(codeDir(), "current", "data.bin"))).toEqual(binary);
    expect(await mode(join(codeDir(), "current", "bin", "run"))).toBe(0o755);
    expect(await readlink(join(codeDir(), "releases", "2", "lib"))).toBe("bin");

    await files.removeRelease(ID, 1);
    expect(await readdir(join(codeDir(), "releases"))).toEqual(["2"]);

    // What a crash leaves half-written goes; the releases and the pointer stay.
    await symlink("releases/1", join(codeDir(), ".current-0123456789ab"));
    await mkdir(join(codeDir(), "releases", "3.staging-1-0123456789ab"));
    expect((await files.sweepCrashLeftovers(ID)).sort()).toEqual([
      ".current-0123456789ab",
      "3.staging-1-0123456789ab",
    ]);
    expect((await readdir(codeDir())).sort()).toEqual(["current", "releases"]);

    await files.removeAll(ID);
    await expect(stat(codeDir())).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(socketDir())).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("lays out a workload without code: its directories, no pointer", async () => {
    const { files } = await cluster();
    await files.layOut(ID, undefined, noUndo);
    expect(await readdir(codeDir())).toEqual([]);
    expect(await readdir(socketDir())).toEqual([]);
    expect(await files.currentRelease(ID)).toBeUndefined();
  });

  it("undoes a lay-out through the create's undo stack", async () => {
    const { files } = await cluster();
    const undo = new UndoStack();
    await files.layOut(ID, [file("index.js", "1")], undo);
    await undo.unwind(log);
    await expect(stat(codeDir())).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(socketDir())).rejects.toMatchObject({ code: "ENOENT" });
  });

  describe("the agent refuses what would write outside a workload's release, before anything is written", () => {
    const hostile: Array<[string, CodeEntry[]]> = [
      ["a path that climbs out", [file("../../etc/x", "pwned")]],
      ["an absolute path", [file("/etc/x", "pwned")]],
      ["a '..' inside a path", [file("lib/../../x", "pwned")]],
      ["a link to an absolute target", [{ path: "etc", kind: "symlink", target: "/etc" }]],
      ["a link that climbs out of the release", [{ path: "up", kind: "symlink", target: "../../../../etc" }]],
      [
        "a file below a link",
        [{ path: "a", kind: "symlink", target: "b" }, { path: "b", kind: "dir" }, file("a/x", "pwned")],
      ],
      ["a path given twice", [file("x", "1"), file("x", "2")]],
      ["a mode berth never writes", [{ ...file("x", "1"), mode: 0o4755 } as unknown as CodeEntry]],
    ];

    it.each(hostile)("%s, as a new release", async (_, entries) => {
      const { files } = await cluster();
      await files.layOut(ID, [file("index.js", "1")], noUndo);
      await expect(files.writeRelease(ID, 2, entries)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
      expect(await readdir(join(codeDir(), "releases"))).toEqual(["1"]);
    });

    it.each(hostile)("%s, as a new workload's first release", async (_, entries) => {
      const { files } = await cluster();
      await expect(files.layOut(ID, entries, noUndo)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
      expect(await readdir(root)).toEqual([]);
    });

    it("an id that is not a berth container id, and a release that is not a positive whole number", async () => {
      const placed = new Set(["../../etc", "C0123456789A/../../x", ID]);
      const { files } = await cluster(placed);
      for (const id of ["../../etc", "C0123456789A/../../x"]) {
        await expect(files.removeAll(id)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
        await expect(files.layOut(id, undefined, noUndo)).rejects.toMatchObject({
          code: "VALIDATION_FAILED",
        });
      }
      expect(await readdir(root)).toEqual([]);
      await files.layOut(ID, [file("index.js", "1")], noUndo);
      for (const release of [0, -1, 1.5, Number.NaN]) {
        await expect(files.writeRelease(ID, release, [file("x", "1")])).rejects.toMatchObject({
          code: "VALIDATION_FAILED",
        });
        await expect(files.switchRelease(ID, release)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
      }
      expect(await readdir(join(codeDir(), "releases"))).toEqual(["1"]);
      expect(await files.currentRelease(ID)).toBe(1);
    });
  });

  it("answers a failure of the node's disk as STORAGE_ERROR, and leaves nothing of the lay-out", async () => {
    const { files } = await cluster();
    // Where the socket directories go is a file: the code directory is made, then undone by the agent.
    await writeFile(join(root, "run"), "not a directory");
    await expect(files.layOut(ID, [file("index.js", "1")], noUndo)).rejects.toMatchObject({
      code: "STORAGE_ERROR",
    });
    await expect(stat(codeDir())).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("fails as retryable while no agent of the workload's node is connected, or it is placed on none", async () => {
    const { files, agent, registry } = await cluster(new Set([ID]));
    const gone = once(registry, "disconnected");
    agent.close();
    await within(5_000, "the agent's connection ended", gone);
    await expect(files.switchRelease(ID, 1)).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
      retryable: true,
    });
    await expect(files.removeAll("C0123456789B")).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
      retryable: true,
    });
  });
});
