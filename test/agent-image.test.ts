import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { agentClosure, runtimeImports } from "../scripts/agent-image/agent-closure.ts";
import { AGENT_IMAGE, buildAgentImage } from "../scripts/agent-image/build-agent-image.ts";
import { agentServiceArgs } from "../scripts/agent-image/deploy-agent-service.ts";

const execFileAsync = promisify(execFile);
const ROOT = new URL("../", import.meta.url).pathname;

/** `docker run --rm …` on the machine's engine: its exit code and output, whether it succeeded or not. */
async function dockerRun(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync("docker", ["run", "--rm", ...args]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("what the node agent's image holds", () => {
  it("reads the imports a module makes at run time: not those in comments, not type-only ones", () => {
    const source = [
      "// import { a } from './commented.ts';",
      "/** @example import { b } from 'documented'; */",
      'import type { T } from "./types-only.ts";',
      'import { type U } from "./kept-for-its-effects.ts";',
      'import { c,\n  d } from "./multi-line.ts";',
      'export { e } from "re-exported";',
      'import "./for-effects.ts";',
      'const url = "https://example.com/x"; const m = await import("./dynamic.ts");',
    ].join("\n");
    expect(runtimeImports(source, "x.ts").sort()).toEqual(
      [
        "./dynamic.ts",
        "./for-effects.ts",
        "./kept-for-its-effects.ts",
        "./multi-line.ts",
        "re-exported",
      ].sort(),
    );
  });

  it("takes the agent's own files and the packages it loads, and none of the API server's", () => {
    const { files, packages } = agentClosure(ROOT);
    expect(files).toEqual(expect.arrayContaining(["src/agent/main.ts", "package.json", "src/version.ts"]));
    expect(files.filter((f) => /^src\/(api|store|containers|updates|composition)\//.test(f))).toEqual([]);
    const names = packages.map((p) => p.replace(/^.*node_modules\//, ""));
    expect(names).toEqual(expect.arrayContaining(["dockerode", "socket.io-client", "pino", "zod"]));
    for (const serverOnly of [
      "socket.io",
      "fastify",
      "pg",
      "redis",
      "vite",
      "preact",
      "vitest",
      "typescript",
    ])
      expect(names).not.toContain(serverOnly);
  });

  describe("the image, built offline", () => {
    beforeAll(async () => {
      await buildAgentImage();
    }, 120_000);

    it("starts the agent as its entrypoint, read-only and without network, every module it imports loaded", async () => {
      // With no configuration the agent refuses to start (exit 2) — after Node has loaded and linked
      // every module of its import graph, so a file or package missing from the image would fail first.
      const { code, output } = await dockerRun(
        "--read-only",
        "--network=none",
        "--cap-drop=ALL",
        AGENT_IMAGE,
      );
      expect(output).toContain("BERTH_AGENT_CREDENTIAL_FILE (or BERTH_AGENT_CREDENTIAL) is required");
      expect(code).toBe(2);
    });

    it("holds no shell", async () => {
      const { code, output } = await dockerRun("--entrypoint=/bin/sh", AGENT_IMAGE, "-c", "true");
      expect(code).not.toBe(0);
      expect(output).toMatch(/no such file or directory/i);
    });
  });
});

describe("the agents' Swarm service", () => {
  it("names each node's credential by a file it mounts read-only, never by its value", () => {
    const args = agentServiceArgs({ servers: "https://10.0.0.5:7300" });
    expect(args).toEqual(
      expect.arrayContaining([
        "--mode=global",
        "--env=BERTH_AGENT_CREDENTIAL_FILE=/etc/berth/agent-credential",
        "--mount=type=bind,src=/etc/berth/agent-credential,dst=/etc/berth/agent-credential,readonly",
        // The agents' root at the same path inside as on the node: the agent names it to its engine.
        "--mount=type=bind,src=/var/lib/berth-agent,dst=/var/lib/berth-agent",
        "--mount=type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock",
      ]),
    );
    // Neither a credential's value nor the master key, nor any Swarm secret: those reach every node's operators.
    expect(args.filter((a) => /BERTH_AGENT_(CREDENTIAL|TOKEN)=|--secret/.test(a))).toEqual([]);
    expect(args.at(-1)).toBe(AGENT_IMAGE);
  });
});
