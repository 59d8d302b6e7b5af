import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBerth } from "../helpers/berth-cli.ts";
import { echoCode, TOKENS, useTestServer } from "../helpers/test-server.ts";

const _PYTHON = "berth/runtime-python:3.11";

/** The compiled `berth` CLI and runtimes: `create --runtime`, `info`, `status`. */
describe("the berth CLI with runtimes", () => {
  const server = useTestServer();
  let work: string;
  let nodeDir: string;
  let pythonDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-cli-rt-"));
    nodeDir = join(work, "node");
    pythonDir = join(work, "python");
    await Promise.all([mkdir(nodeDir), mkdir(pythonDir)]);
    await writeFile(join(nodeDir, "index.js"), (await echoCode()).files["index.js"] as string);
    await writeFile(
      join(pythonDir, "main.py"),
      "import berth_workload\n\nberth_workload.run(lambda data: {'python': data})\n",
    );
    env = { BERTH_URL: server.url, BERTH_TOKEN: TOKENS.alice, XDG_CONFIG_HOME: join(work, "config") };
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("lists the runtimes with berth info, as a table and as JSON", async () => {
    const table = await runBerth(["info"], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^Version: +\S+ \(channel protocol 1\)$/m);
    expect(table.stdout).toMatch(/^RUNTIME\s+IMAGE\s+ENTRY\s+COMMAND\s+AVAILABLE$/m);
    expect(table.stdout).toMatch(/^node\s+berth\/runtime-node:24\s+index\.js\s+node \S*index\.js\s+yes$/m);
    expect(table.stdout).toMatch(
      /^python\s+berth\/runtime-python:3\.11\s+main\.py\s+python3 main\.py\s+yes$/m,
    );
    const json = await runBerth(["info", "--json"], env);
    expect(json.code, json.stderr).toBe(0);
    const info = JSON.parse(json.stdout);
    expect(info.runtimes.map((r: { name: string }) => r.name)).toEqual(["node", "python"]);
  });

  it("creates with --runtime node, and shows the runtime in status", async () => {
    const res = await runBerth(["create", "cli-rt-node", "--runtime", "node", "--code", nodeDir], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^cli-rt-node created \(\S+\): running, release 1/);
    const status = await runBerth(["status", "cli-rt-node"], env);
    expect(status.stdout).toMatch(/^Runtime: +node$/m);
    expect((await runBerth(["rm", "cli-rt-node"], env)).code).toBe(0);
  });

  it("refuses --runtime python for code without main.py, naming the file and the runtime", async () => {
    const res = await runBerth(["create", "cli-rt-bad", "--runtime", "python", "--code", nodeDir], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "error VALIDATION_FAILED: The code has no 'main.py', which the python runtime's image berth/runtime-python:3.11 runs by default",
    );
  });

  it("creates with --runtime python", async () => {
    const res = await runBerth(["create", "cli-rt-python", "--runtime", "python", "--code", pythonDir], env);
    expect(res.code, res.stderr).toBe(0);
    const answer = await runBerth(["request", "cli-rt-python", '{"n":1}'], env);
    expect(answer.code, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout)).toEqual({ python: { n: 1 } });
    expect((await runBerth(["rm", "cli-rt-python"], env)).code).toBe(0);
  });

  it("refuses a runtime it does not know before connecting, with exit 2", async () => {
    const res = await runBerth(["create", "x", "--runtime", "ruby", "--code", nodeDir], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Allowed choices are node, python");
  });
});
