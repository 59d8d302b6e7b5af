import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { file, symlink, tarArchive, tarGz } from "../../src/code/testing/tar-writer.ts";
import { type Client, call, docker, useTestServer } from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

/** `container:create` takes `code: { archive }` as `container:update` does: the same checks, limits and errors. */
describe("creating a container from a code archive", () => {
  const MAX_CODE_BYTES = 64 * 1024;
  const server = useTestServer({ BERTH_MAX_CODE_BYTES: String(MAX_CODE_BYTES), BERTH_MAX_CODE_FILES: "5" });
  let alice: Client;

  /** What a refused create must leave unchanged: alice's containers, the code directories, the engine's containers. */
  const footprint = async () => ({
    containers: await names(),
    codeDirs: (await readdir(join(server.dataDir, "code")).catch(() => [])).sort(),
    engine: (
      await docker.listContainers({
        all: true,
        filters: { label: [`berth.instance=${server.berth.instanceId}`] },
      })
    ).length,
  });

  const names = async () => {
    const all: string[] = [];
    for await (const c of alice.containers.list()) all.push(c.name);
    return all.sort();
  };

  beforeAll(async () => {
    alice = await server.connect("alice");
  });

  it("runs code that came as a tar.gz", async () => {
    const members = Object.entries(versioned("from-archive").files).map(([name, content]) =>
      file(name, content),
    );
    const packed = await alice.containers.create({
      name: "packed",
      code: { archive: new Uint8Array(tarGz(members)) },
    });
    expect(packed.info).toMatchObject({ state: "running", release: 1 });
    expect(await packed.request({ version: true })).toBe("from-archive");
    expect(await packed.releases()).toMatchObject([{ number: 1, status: "active", files: 2 }]);
    await packed.delete();
  });

  it("runs code that came as a plain tar", async () => {
    const members = Object.entries(versioned("plain-tar").files).map(([name, content]) =>
      file(name, content),
    );
    const plain = await alice.containers.create({
      name: "plain",
      code: { archive: new Uint8Array(tarArchive(members)) },
    });
    expect(await plain.request({ version: true })).toBe("plain-tar");
    await plain.delete();
  });

  it.each([
    ["a member that climbs out with '..'", [file("index.js", "x"), file("../escape.js", "x")]],
    ["a member with an absolute path", [file("index.js", "x"), file("/etc/escape.js", "x")]],
    [
      "a symlink that leads out of the release",
      [file("index.js", "x"), symlink("out", "../../../etc/passwd")],
    ],
    ["a symlink to an absolute path", [file("index.js", "x"), symlink("out", "/etc/passwd")]],
    ["more files than the limit", Array.from({ length: 6 }, (_, i) => file(`f${i}.js`, "x"))],
    ["more bytes, unpacked, than the limit", [file("index.js", Buffer.alloc(MAX_CODE_BYTES + 1))]],
  ])("refuses %s with VALIDATION_FAILED and leaves nothing behind", async (_what, members) => {
    const before = await footprint();
    for (const archive of [tarArchive(members), tarGz(members)]) {
      await expect(alice.containers.create({ name: "hostile", code: { archive } })).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
        details: { field: "code.archive" },
      });
    }
    expect(await footprint()).toEqual(before);
  });

  it.each([
    ["an archive that is not binary", { archive: "not a buffer" }, /code\.archive: must be binary/],
    [
      "both files and an archive",
      { files: { "index.js": "x" }, archive: tarGz([]) },
      /exactly one of 'files'/,
    ],
    ["neither files nor an archive", {}, /exactly one of 'files'/],
    [
      "a file that is neither text nor binary",
      { files: { "index.js": 5 } },
      /code\.files\.index\.js: must be text/,
    ],
  ])("refuses %s, naming the field", async (_what, code, message) => {
    // Ill-typed on purpose: sent through call, since the handles take only well-typed code.
    for (const event of ["container:create", "container:update"] as const) {
      const payload = event === "container:create" ? { name: "hostile", code } : { id: "hostile", code };
      const res = await call(alice, event, payload);
      expect(res).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED", message } });
    }
  });
});
