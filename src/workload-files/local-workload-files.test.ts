import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ContainerPaths } from "./container-paths.ts";
import { LocalWorkloadFiles } from "./local-workload-files.ts";

const ID = "C0123456789A";
let root: string;
let paths: ContainerPaths;
let files: LocalWorkloadFiles;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-local-files-"));
  paths = new ContainerPaths(join(root, "data"), join(root, "run"));
  files = new LocalWorkloadFiles(paths);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const code = [{ path: "index.js", kind: "file" as const, content: Buffer.from("1"), mode: 0o644 as const }];

describe("LocalWorkloadFiles", () => {
  it("lays out directories the workload's own uid can enter and read, whatever berth's umask", async () => {
    // Under 077 a mkdir alone made the code directory (the mount's root) and the socket directory 0700,
    // root's alone: the workload could neither start in its code nor reach its socket.
    const umask = process.umask(0o077);
    try {
      await files.layOut(ID, code, { push: () => {} });
    } finally {
      process.umask(umask);
    }
    for (const dir of [
      paths.codeDir(ID),
      join(paths.codeDir(ID), "releases"),
      paths.releaseDir(ID, 1),
      paths.socketDir(ID),
    ])
      expect(await mode(dir), dir).toBe(0o755);
  });

  it("pushes each step's undo before the step, so an unwound stack leaves nothing", async () => {
    const undo: Array<[string, () => unknown]> = [];
    await files.layOut(ID, code, { push: (what, step) => undo.push([what, step]) });
    expect(undo.map(([what]) => what)).toEqual(["remove code", "remove socket directory"]);
    for (const [, step] of undo.reverse()) await step();
    await expect(stat(paths.codeDir(ID))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(paths.socketDir(ID))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("names the paths the engine mounts as ContainerPaths does", () => {
    expect(files.codeDir(ID)).toBe(paths.codeDir(ID));
    expect(files.socketDir(ID)).toBe(paths.socketDir(ID));
  });
});
