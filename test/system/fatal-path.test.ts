import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS } from "../helpers/test-server.ts";

const root = new URL("../../", import.meta.url).pathname;

describe("berth's fatal-error path", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bf-"));
    await writeFile(join(dir, "a-file"), "not a directory");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("ends with one redacted JSON line when berth cannot be built, even if the error's message holds a token", async () => {
    // The data directory cannot be made (its parent is a file), and its path carries tokens:
    // Node's own report would print the message and stack as they are.
    const child = spawn(process.execPath, ["src/main.ts"], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        BERTH_PORT: "0",
        BERTH_DATA_DIR: join(dir, "a-file", `d-${TOKENS.admin}-${TOKENS.alice}`),
        BERTH_TOKENS: `alice:${TOKENS.alice}`,
        BERTH_ADMIN_TOKEN: TOKENS.admin,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let printed = "";
    child.stdout.on("data", (c: Buffer) => {
      printed += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      printed += c.toString();
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    expect(printed).toContain("ENOTDIR");
    expect(printed).not.toContain(TOKENS.admin);
    expect(printed).not.toContain(TOKENS.alice);
    const lines = printed.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 60, msg: "berth could not be built" });
  });
});
