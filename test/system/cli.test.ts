import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthShellCommand, runBerth, runShell, startBerth } from "../helpers/berth-cli.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { TOKENS, useTestServer } from "../helpers/test-server.ts";

const SECRET = "cli-canary-s3cr3t-7f21";

/** The echo fixture, plus a line of output every 200 ms for `logs -f` to show. */
async function tickingEcho(): Promise<string> {
  const echo = await readFile(new URL("../fixtures/workloads/echo.js", import.meta.url), "utf8");
  return `${echo}\nsetInterval(() => console.log("tick from the workload"), 200);\n`;
}

describe("the berth CLI, run as a child process against a real berth", () => {
  const server = useTestServer();
  let work: string;
  let appDir: string;
  let brokenDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-cli-"));
    appDir = join(work, "app");
    brokenDir = join(work, "broken");
    await Promise.all([mkdir(appDir), mkdir(brokenDir)]);
    await writeFile(join(appDir, "index.js"), await tickingEcho());
    await writeFile(
      join(brokenDir, "index.js"),
      `console.log("broken release starting");\nconsole.error("cannot find the database");\nprocess.exit(3);\n`,
    );
    env = { BERTH_URL: server.url, BERTH_TOKEN: TOKENS.alice, XDG_CONFIG_HOME: join(work, "config") };
  });

  afterAll(async () => {
    await runBerth(["rm", "cli-web"], env);
    await rm(work, { recursive: true, force: true });
  });

  it("creates a container from a folder, printing its steps, and never shows its secret", async () => {
    const res = await runBerth(
      [
        "create",
        "cli-web",
        "--code",
        appDir,
        "--env",
        "GREETING=hello",
        "--secret-env",
        "API_KEY",
        "--memory",
        "128m",
        "--cpus",
        "0.5",
        "--restart",
        "on-failure",
        "--label",
        "team=web",
      ],
      // The secret's value comes from the CLI's environment, not its command line.
      { ...env, API_KEY: SECRET },
    );
    expect(res.stderr).not.toContain(SECRET);
    expect(res.stdout).not.toContain(SECRET);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^cli-web created \(\S+\): running, release 1 in \d/);
    // Not a terminal: one plain line per step that ended, on stderr.
    for (const step of ["validate", "write", "create", "start", "ready"]) {
      expect(res.stderr).toMatch(new RegExp(`^${step} done  \\d+`, "m"));
    }
  });

  it("lists it as a table and as JSON", async () => {
    const table = await runBerth(["ls"], env);
    expect(table.code, table.stderr).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+ID\s+STATE\s+HEALTH\s+RELEASE\s+UPTIME\s+RESTARTS\s+CREATED\s+IMAGE$/);
    expect(rows.find((r) => r.startsWith("cli-web "))).toMatch(/\brunning\b.*\bUp \d+ seconds?\b/);

    const json = await runBerth(["ls", "--json", "--state", "running"], env);
    expect(json.code, json.stderr).toBe(0);
    const list = JSON.parse(json.stdout) as { name: string; state: string; restartPolicy: string }[];
    expect(list).toEqual([
      expect.objectContaining({ name: "cli-web", state: "running", restartPolicy: "on-failure" }),
    ]);
    expect(json.stdout).not.toContain(SECRET);

    const byLabel = await runBerth(["ls", "--label", "team=web", "-q"], env);
    expect(byLabel.stdout).toBe("cli-web\n");
    const otherLabel = await runBerth(["ls", "--label", "team=db", "-q"], env);
    expect(otherLabel.stdout).toBe("");
  });

  it("on a terminal: colour and live steps, but no colour with NO_COLOR or --json", async () => {
    const ESC = "\x1b[";
    const table = await runBerth(["ls"], env, { terminal: true });
    expect(table.code, table.stdout).toBe(0);
    expect(table.stdout).toContain(`${ESC}1mNAME`);
    const plain = await runBerth(["ls"], { ...env, NO_COLOR: "1" }, { terminal: true });
    expect(plain.stdout).toMatch(/^NAME\s+ID/);
    expect(plain.stdout).not.toContain(ESC);
    const json = await runBerth(["ls", "--json"], env, { terminal: true });
    expect(json.stdout).not.toContain(ESC);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ name: "cli-web" })]);

    // A spinner per step that ends as ✔ with its time.
    const restart = await runBerth(["restart", "cli-web"], env, { terminal: true });
    expect(restart.code, restart.stdout).toBe(0);
    for (const step of ["stop", "start", "ready"])
      expect(restart.stdout).toMatch(new RegExp(`✔.*${step}.*\\d+ ms`));
  });

  it("shows its status and resource usage, with its limits, as JSON", async () => {
    const status = await runBerth(["status", "cli-web", "--json"], env);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ name: "cli-web", state: "running", release: 1 });
    expect(status.stdout).not.toContain(SECRET);
    // The spec, for people: the secret's key, never its value.
    const described = await runBerth(["status", "cli-web"], env);
    expect(described.stdout).toMatch(/^Env: +GREETING="hello"$/m);
    expect(described.stdout).toMatch(/^Secret env: +API_KEY \(values hidden\)$/m);
    expect(described.stdout).toMatch(/^Limits: +128 MB memory, 0.5 CPUs, 256 processes$/m);
    expect(described.stdout).not.toContain(SECRET);

    const stats = await runBerth(["stats", "cli-web", "--json"], env);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual([
      expect.objectContaining({ name: "cli-web", memoryLimitBytes: 128 * 2 ** 20 }),
    ]);
  });

  it("round-trips a request and prints the workload's answer as JSON", async () => {
    const res = await runBerth(["request", "cli-web", '{"ping": [1, "two"]}', "--timeout", "5s"], env);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ ping: [1, "two"] });

    const fromStdin = await runBerth(["request", "cli-web", "-", "--json"], env, { input: '"over stdin"' });
    expect(fromStdin.stdout).toBe('"over stdin"\n');

    const failed = await runBerth(["request", "cli-web", '{"fail": "no such thing"}'], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error WORKLOAD_ERROR: /m);
  });

  it("follows the logs until Ctrl-C, then exits 0", async () => {
    const logs = startBerth(["logs", "cli-web", "-f", "--tail", "0"], env);
    try {
      await logs.waitForOutput("tick from the workload");
      logs.child.kill("SIGINT");
      const res = await within(10_000, "logs -f ending on SIGINT", logs.exited);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toBe("");
    } finally {
      logs.child.kill("SIGKILL");
    }
  });

  it("watches resource usage as NDJSON until Ctrl-C, then exits 0", async () => {
    const stats = startBerth(["stats", "cli-web", "-w", "--interval", "250ms", "--json"], env);
    try {
      await stats.waitForOutput("\n");
      await eventually(10_000, "a second sample", () => stats.stdout().split("\n").length > 2);
      stats.child.kill("SIGINT");
      const res = await within(10_000, "stats -w ending on SIGINT", stats.exited);
      expect(res.code, res.stderr).toBe(0);
      const samples = res.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as { name: string });
      expect(samples.every((s) => s.name === "cli-web")).toBe(true);
    } finally {
      stats.child.kill("SIGKILL");
    }
  });

  it("watches the overview of every running container the same way", async () => {
    const stats = startBerth(["stats", "-w", "--interval", "250ms", "--json"], env);
    try {
      await stats.waitForOutput('"name":"cli-web"');
      stats.child.kill("SIGINT");
      const res = await within(10_000, "stats -w ending on SIGINT", stats.exited);
      expect(res.code, res.stderr).toBe(0);
    } finally {
      stats.child.kill("SIGKILL");
    }
  });

  it("ends quietly when whoever reads its output goes away (a pipe to head)", async () => {
    const res = await runShell(`${berthShellCommand(["logs", "cli-web", "-f"])} | head -n 1`, env);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("tick from the workload\n");
    expect(res.stderr).toBe("");
  });

  it("follows the activity feed: a restart shows up as it happens, and Ctrl-C exits 0", async () => {
    const feed = startBerth(["activity", "-f", "--container", "cli-web", "--tail", "0", "--json"], env);
    try {
      // The feed is subscribed once it has read the history; give it an event to print after that.
      await eventually(10_000, "the restart to appear in the followed feed", async () => {
        await runBerth(["restart", "cli-web"], env);
        return feed.stdout().includes('"containerName":"cli-web"');
      });
      feed.child.kill("SIGINT");
      const res = await within(10_000, "activity -f ending on SIGINT", feed.exited);
      expect(res.code, res.stderr).toBe(0);
      for (const line of res.stdout.trimEnd().split("\n")) {
        expect(JSON.parse(line)).toMatchObject({ containerName: "cli-web" });
      }
    } finally {
      feed.child.kill("SIGKILL");
    }
  });

  it("prints past logs as NDJSON", async () => {
    const res = await runBerth(["logs", "cli-web", "--tail", "3", "--json"], env);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { stream: string; text: string });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ stream: "stdout", text: "tick from the workload" });
  });

  it("exits 1 on an update to broken code, printing the rollback's cause: exit code and last lines", async () => {
    const res = await runBerth(["update", "cli-web", brokenDir], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error UPDATE_ROLLED_BACK: Release 2 did not come up/m);
    expect(res.stderr).toMatch(/cause: exited, exit code: 3/);
    expect(res.stderr).toContain("| cannot find the database");
    expect(res.stderr).toContain("| broken release starting");
    expect(res.stdout).toBe("");
  });

  it("lists the releases, updates again and rolls back", async () => {
    const releases = await runBerth(["releases", "cli-web", "--json"], env);
    expect(releases.code, releases.stderr).toBe(0);
    // Newest first, as berth lists them.
    expect(JSON.parse(releases.stdout)).toEqual([
      expect.objectContaining({ number: 2, status: "failed" }),
      expect.objectContaining({ number: 1 }),
    ]);
    const table = await runBerth(["releases", "cli-web"], env);
    expect(table.stdout).toMatch(/^RELEASE\s+STATUS\s+CREATED\s+BY\s+SIZE\s+FILES\s+HASH$/m);
    expect(table.stdout).toMatch(/^\s*\*1\s/m);

    const update = await runBerth(["update", "cli-web", appDir, "--json"], env);
    expect(update.code, update.stderr).toBe(0);
    expect(JSON.parse(update.stdout)).toMatchObject({ release: 3, previousRelease: 1 });

    const rollback = await runBerth(["rollback", "cli-web"], env);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toMatch(/^cli-web: release 1 is running \(was 3\), /);

    const named = await runBerth(["rollback", "cli-web", "--release", "3", "--json"], env);
    expect(named.code, named.stderr).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ release: 3, previousRelease: 1 });
  });

  it("shows the activity feed about the container", async () => {
    const res = await runBerth(["activity", "--container", "cli-web", "--json", "--tail", "50"], env);
    expect(res.code, res.stderr).toBe(0);
    const entries = JSON.parse(res.stdout) as { containerName?: string; action: string }[];
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.containerName === "cli-web")).toBe(true);
    expect(res.stdout).not.toContain(SECRET);
  });

  it("ends a follow of the logs by itself when the container is stopped, with exit 0", async () => {
    const logs = startBerth(["logs", "cli-web", "-f", "--tail", "0"], env);
    try {
      await logs.waitForOutput("tick from the workload");
      expect((await runBerth(["stop", "cli-web"], env)).code).toBe(0);
      const res = await within(15_000, "logs -f ending after a stop", logs.exited);
      expect(res.code, res.stderr).toBe(0);
    } finally {
      logs.child.kill("SIGKILL");
      await runBerth(["start", "cli-web"], env);
    }
  });

  it("stops, starts and removes it; then it is gone", async () => {
    const stop = await runBerth(["stop", "cli-web"], env);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toBe("cli-web\n");
    const start = await runBerth(["start", "cli-web", "--json"], env);
    expect(start.code, start.stderr).toBe(0);
    expect(JSON.parse(start.stdout)).toEqual([
      expect.objectContaining({ name: "cli-web", state: "running" }),
    ]);

    const rm = await runBerth(["rm", "cli-web", "no-such-container"], env);
    expect(rm.code).toBe(1);
    expect(rm.stdout).toBe("cli-web\n");
    expect(rm.stderr).toMatch(/^error NOT_FOUND: /m);

    const status = await runBerth(["status", "cli-web"], env);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/^error NOT_FOUND: /m);
  });
});
