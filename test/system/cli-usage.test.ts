import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BERTH_COMMAND, runBerth } from "../helpers/berth-cli.ts";

/** Commands that get the usual `--help` with an example. */
const COMMANDS = [
  "serve",
  "login",
  "ls",
  "create",
  "start",
  "stop",
  "restart",
  "rm",
  "status",
  "update",
  "rollback",
  "releases",
  "send",
  "request",
  "logs",
  "stats",
  "activity",
  "info",
];

describe("the berth CLI's command line", () => {
  let config: string;
  // Nothing listens here: usage errors must be found before any connection.
  let env: Record<string, string>;
  beforeAll(async () => {
    config = await mkdtemp(join(tmpdir(), "berth-cli-usage-"));
    env = { BERTH_URL: "http://127.0.0.1:9", BERTH_TOKEN: "any-token-0123456789", XDG_CONFIG_HOME: config };
  });
  afterAll(async () => {
    await rm(config, { recursive: true, force: true });
  });

  it("runs on the machine's own Node.js 20 as compiled, connecting through the compiled client", () => {
    // `npm install -g` puts the CLI on whatever Node.js the machine has; Node.js 20 is the oldest it supports.
    const node20 = "/usr/bin/node";
    const version = spawnSync(node20, ["--version"], { encoding: "utf8" }).stdout.trim();
    expect(version).toMatch(/^v20\./);
    const run = (args: string[]) =>
      spawnSync(node20, [BERTH_COMMAND[1], ...args], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, ...env },
      });
    expect(run(["--version"])).toMatchObject({ status: 0, stdout: "0.1.0\n" });
    const ls = run(["ls"]);
    expect(ls.status).toBe(1);
    expect(ls.stderr).toContain("error CONNECTION_FAILED: nothing answered at http://127.0.0.1:9");
  });

  it("is linked as node_modules/.bin/berth and runs from there, as `npx berth` runs it", () => {
    const bin = fileURLToPath(new URL("../../node_modules/.bin/berth", import.meta.url));
    const r = spawnSync(bin, ["--version"], { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
    expect(r).toMatchObject({ status: 0, stdout: "0.1.0\n" });
  });

  it("exits 2 on an unknown flag", async () => {
    const res = await runBerth(["ls", "--bogus"], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown option '--bogus'");
  });

  it("exits 2 on a missing argument or required flag", async () => {
    const noName = await runBerth(["status"], env);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("missing required argument 'name'");
    const noCode = await runBerth(["create", "web"], env);
    expect(noCode.code).toBe(2);
    expect(noCode.stderr).toContain("required option '--code <dir>' not specified");
  });

  it("exits 2 on an unknown command, suggesting the nearest", async () => {
    const res = await runBerth(["lss"], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown command 'lss'");
    expect(res.stderr).toContain("(Did you mean ls?)");
  });

  it("exits 2 on invalid JSON, saying what is wrong", async () => {
    const res = await runBerth(["request", "web", "{ping: 1}"], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^error: JSON is not valid JSON \(/m);
  });

  it("exits 2 on a malformed value: a duration, a size, a state", async () => {
    const timeout = await runBerth(["request", "web", "{}", "--timeout", "soon"], env);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain("--timeout must be a duration");
    const memory = await runBerth(["create", "web", "--code", ".", "--memory", "lots"], env);
    expect(memory.code).toBe(2);
    expect(memory.stderr).toContain("--memory must be a size");
    const state = await runBerth(["ls", "--state", "sleeping"], env);
    expect(state.code).toBe(2);
    expect(state.stderr).toContain("Allowed choices are created, starting, running");
  });

  it("exits 2 without a token, naming the ways to give one", async () => {
    const res = await runBerth(["ls"], { XDG_CONFIG_HOME: config });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      "no token: pass --token T, set BERTH_TOKEN, or save one with `berth login URL --token-stdin`",
    );
  });

  it("exits 1 with CONNECTION_FAILED and a hint when nothing listens", async () => {
    const res = await runBerth(["ls"], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error CONNECTION_FAILED: /m);
    expect(res.stderr).toContain("berth serve");
  });

  it.each(COMMANDS)("`berth %s --help` shows an example and exits 0", async (command) => {
    const res = await runBerth([command, "--help"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Usage: berth ${command}`);
    expect(res.stdout).toMatch(/Examples?:\n {2}\$ berth /);
  });

  it("shows the whole command list on --help, and its version on --version", async () => {
    const help = await runBerth(["--help"], env);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, "m"));
    const version = await runBerth(["--version"], env);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
