import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { deriveAgentCredential } from "../agent-link/agent-credential.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const MASTER = "master-key-for-the-agent-test-0123456789abcdef";

describe("the node agent's start (npm run agent)", () => {
  it("refuses to start with the master key, BERTH_AGENT_TOKEN, in its environment, and says why", async () => {
    const env = {
      PATH: process.env.PATH ?? "",
      BERTH_AGENT_SERVERS: "http://127.0.0.1:1",
      BERTH_AGENT_CREDENTIAL: deriveAgentCredential(MASTER, "node1"),
      BERTH_AGENT_TOKEN: MASTER,
      // Never reached: the agent stops before it asks its engine anything.
      BERTH_DOCKER_SOCKET: "/nonexistent/docker.sock",
    };
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [MAIN], { env, timeout: 20_000 }, (err, _stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stderr }),
      ),
    );
    expect(code).toBe(2);
    expect(stderr).toContain("BERTH_AGENT_TOKEN is set: a node agent must not hold the master key");
    expect(stderr).not.toContain(MASTER);
  });
});
