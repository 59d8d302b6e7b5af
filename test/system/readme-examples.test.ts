import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { codeFromDirectory } from "@berth/client/code";
import { describe, expect, it } from "vitest";
import { BERTH_COMMAND } from "../helpers/berth-cli.ts";
import { TOKENS, useTestServer } from "../helpers/test-server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

describe("the README's examples", () => {
  const server = useTestServer();

  it("shows examples/quickstart.mjs as it is", async () => {
    const [readme, example] = await Promise.all([
      readFile(`${root}README.md`, "utf8"),
      readFile(`${root}examples/quickstart.mjs`, "utf8"),
    ]);
    expect(readme).toContain(`\`\`\`js\n${example}\`\`\``);
  });

  it("runs the SDK quick start against a real berth: create from a folder, a request, an update rolled back", async () => {
    // As a user runs it from the repository: the compiled @berth/client (BERTH_COMMAND's import compiled it).
    expect(BERTH_COMMAND[1]).toMatch(/lib\/main\.js$/);
    const { stdout } = await run(BERTH_COMMAND[0], ["examples/quickstart.mjs"], {
      cwd: root,
      env: { PATH: process.env.PATH, BERTH_URL: server.url, BERTH_TOKEN: TOKENS.alice },
      timeout: 90_000,
    });
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toBe("{ hello: 'berth' }");
    expect(lines[1]).toMatch(/^rolled back: Release 2 did not come up .*release 1 is running again/);
    // It deleted what it made.
    const admin = await server.connect("admin");
    expect((await admin.containers.list().page()).items).toEqual([]);
  });

  it("runs examples/python-hello with the package it ships in vendor/", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({
      name: "python-hello",
      runtime: "python",
      code: await codeFromDirectory(`${root}examples/python-hello`),
    });
    try {
      expect(bot.info).toMatchObject({
        state: "running",
        runtime: "python",
        image: "berth/runtime-python:3.11",
      });
      expect(await bot.request({ name: "Ada", text: "don't état-major, three words" })).toEqual({
        hello: "Ada",
        words: 4,
      });
      expect((await bot.logs()).map((l) => l.text)).toContain("python-hello is starting");
    } finally {
      await bot.delete();
    }
  });
});
