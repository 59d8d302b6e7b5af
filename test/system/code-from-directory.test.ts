import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeFromDirectory } from "../../packages/client/src/code/code-from-directory.ts";
import { type Client, echoCode, ok, useTestServer } from "../helpers/test-server.ts";

/** A folder on disk becomes a running workload: what .berthignore lists never reaches berth. */
describe("code from a folder", () => {
  const server = useTestServer();
  let alice: Client;
  let folder: string;

  beforeAll(async () => {
    alice = await server.connect("alice");
    folder = await mkdtemp(join(tmpdir(), "berth-folder-"));
    await writeFile(join(folder, "index.js"), (await echoCode()).files["index.js"]!);
    await mkdir(join(folder, "assets"));
    await writeFile(join(folder, "assets", "logo.bin"), new Uint8Array([0, 0xff, 0x80, 0xfe]));
    await writeFile(join(folder, ".env"), "TOKEN=not-for-berth\n");
    await mkdir(join(folder, "scratch"));
    await writeFile(join(folder, "scratch", "notes.txt"), "draft\n");
    await writeFile(join(folder, ".berthignore"), "# local files\n.env\n/scratch/\n");
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it("runs code read from a folder with a binary file, without what .berthignore lists", async () => {
    const limits = (await ok(alice, "server:info", {})).limits;
    const code = await codeFromDirectory(folder, { limits });
    expect(code).toHaveProperty("archive");
    const created = await ok(alice, "container:create", { name: "from-folder", code });
    expect(created).toMatchObject({ state: "running", release: 1 });
    expect(await ok(alice, "container:request", { id: created.id, data: { hello: 1 } })).toEqual({
      hello: 1,
    });

    const release = join(server.dataDir, "code", created.id, "releases", "1");
    expect((await readdir(release, { recursive: true })).sort()).toEqual([
      ".berthignore",
      "assets",
      "assets/logo.bin",
      "index.js",
    ]);
    expect(new Uint8Array(await readFile(join(release, "assets", "logo.bin")))).toEqual(
      new Uint8Array([0, 0xff, 0x80, 0xfe]),
    );
  });
});
