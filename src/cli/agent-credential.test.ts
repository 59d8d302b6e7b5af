import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { deriveAgentCredential } from "../agent-link/agent-credential.ts";

const CLI = new URL("./agent-credential.ts", import.meta.url).pathname;
const MASTER = "master-key-for-the-cli-test-0123456789abcdef";
const NODE_ID = "8x2kq0f9d3zq1m6a5c4v7b8n0";

/** Runs the CLI as `npm run agent:credential -- …args` does; its exit code and both outputs. */
function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

describe("npm run agent:credential -- NODE_ID", () => {
  it("prints the node's credential on stdout, and nothing else", async () => {
    const { code, stdout, stderr } = await run([NODE_ID], { BERTH_AGENT_TOKEN: MASTER });
    expect(code).toBe(0);
    expect(stdout).toBe(`${deriveAgentCredential(MASTER, NODE_ID)}\n`);
    expect(stderr).toBe("");
  });

  it("refuses a node id that is not a Swarm node id, or none, printing nothing on stdout", async () => {
    for (const args of [["Node-3"], ["../x"], [], [NODE_ID, "extra"]]) {
      const { code, stdout } = await run(args, { BERTH_AGENT_TOKEN: MASTER });
      expect(code, args.join(" ")).toBe(2);
      expect(stdout).toBe("");
    }
  });

  it("needs the master key, long enough, and never quotes it", async () => {
    expect(await run([NODE_ID])).toMatchObject({ code: 2, stdout: "" });
    const short = "short-master-key";
    const { code, stdout, stderr } = await run([NODE_ID], { BERTH_AGENT_TOKEN: short });
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toContain("BERTH_AGENT_TOKEN must have 32–1024 bytes");
    expect(stderr).not.toContain(short);
  });
});
