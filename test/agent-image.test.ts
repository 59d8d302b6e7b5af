import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { agentClosure, runtimeImports } from "../scripts/agent-image/agent-closure.ts";
import {
  AGENT_IMAGE,
  type AgentImageBuild,
  buildAgentImage,
  IPTABLES_LABEL,
} from "../scripts/agent-image/build-agent-image.ts";
import { agentServiceArgs, XTABLES_LOCK } from "../scripts/agent-image/deploy-agent-service.ts";
import { iptablesRuntime } from "../scripts/agent-image/iptables-runtime.ts";

const execFileAsync = promisify(execFile);
const ROOT = new URL("../", import.meta.url).pathname;
const EGRESS_FILTER_IN_IMAGE = new URL("fixtures/agent-image/egress-filter-in-image.mjs", import.meta.url);

/** `docker run --rm …` on the machine's engine: its exit code and output, whether it succeeded or not. */
async function dockerRun(...args: string[]): Promise<{ code: number; output: string }> {
  return dockerRunWith(undefined, ...args);
}

/** As dockerRun, with `input` on the container's standard input (`-i`). */
async function dockerRunWith(
  input: string | undefined,
  ...args: string[]
): Promise<{ code: number; output: string }> {
  const run = ["run", "--rm", ...(input === undefined ? [] : ["-i"]), ...args];
  return new Promise((resolve) => {
    const child = execFile("docker", run, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
    child.stdin?.end(input ?? "");
  });
}

/** The capabilities the agents' service adds (`--cap-add=…`), as `docker run` takes them. */
function serviceCaps(backend: "nft" | "legacy" | "none"): string[] {
  return agentServiceArgs({ servers: "https://10.0.0.5:7300", iptablesBackend: backend }).filter((a) =>
    a.startsWith("--cap-add="),
  );
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
    let build: AgentImageBuild;
    beforeAll(async () => {
      build = await buildAgentImage();
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

    describe.skipIf(iptablesRuntime() === undefined)("with the host's iptables", () => {
      it("carries the host's iptables, the same back end, and says which in its label", async () => {
        const host = iptablesRuntime()!;
        expect(build.iptables).toBe(host.backend);
        const image = await execFileAsync("docker", [
          "image",
          "inspect",
          "--format",
          `{{index .Config.Labels "${IPTABLES_LABEL}"}}`,
          AGENT_IMAGE,
        ]);
        expect(image.stdout.trim()).toBe(host.backend);
        // The name the agent runs, found on the image's PATH, answering as the host's does.
        const { stdout: onHost } = await execFileAsync("iptables", ["-V"]);
        const { code, output } = await dockerRun(
          "--read-only",
          "--network=none",
          "--cap-drop=ALL",
          "--entrypoint=iptables",
          AGENT_IMAGE,
          "-V",
        );
        expect(code).toBe(0);
        expect(output.trim()).toBe(onHost.trim());
      });

      it("runs the agent's egress filter with the service's capabilities alone: DOCKER-USER checked, a bridge protected and released", async () => {
        // As the service runs it (read-only root, root's uid, every capability dropped but the service's),
        // in a network namespace of its own (--network=none), so the machine's firewall is untouched.
        const { code, output } = await dockerRunWith(
          await readFile(EGRESS_FILTER_IN_IMAGE, "utf8"),
          "--read-only",
          "--network=none",
          "--cap-drop=ALL",
          ...serviceCaps(build.iptables),
          "--entrypoint=/usr/local/bin/node",
          AGENT_IMAGE,
          "--input-type=module",
          "-",
        );
        expect(code, output).toBe(0);
        const result = JSON.parse(output) as {
          withoutDockerUser: { available: boolean };
          withDockerUser?: { available: boolean };
          protected?: string;
          released?: string;
          error?: string;
        };
        expect(result.error).toBeUndefined();
        // No engine made DOCKER-USER in that namespace: the node would refuse outbound workloads.
        expect(result.withoutDockerUser.available).toBe(false);
        expect(result.withDockerUser).toEqual({ available: true });
        const rules = result.protected!.split("\n");
        const jump = '-i br-0123456789ab -m comment --comment "berth:node-agent" -j';
        expect(rules.filter((r) => r.startsWith(`-A DOCKER-USER ${jump} BF`))).toHaveLength(1);
        expect(rules.filter((r) => r.startsWith(`-A INPUT ${jump} BI`))).toHaveLength(1);
        expect(rules).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^-A BF\w+-br-0123456789ab -d 10\.9\.0\.1\/32 -j RETURN$/),
            expect.stringMatching(
              /^-A BF\w+-br-0123456789ab -d 10\.0\.0\.0\/8 -j REJECT --reject-with icmp-admin-prohibited$/,
            ),
            expect.stringMatching(/^-A BI\w+-br-0123456789ab -j REJECT --reject-with icmp-admin-prohibited$/),
          ]),
        );
        expect(result.released!.split("\n").filter((r) => r.includes("br-0123456789ab"))).toEqual([]);
      });

      it("cannot filter without CAP_NET_ADMIN: the check fails, so the node refuses (fail closed)", async () => {
        const { code, output } = await dockerRun(
          "--read-only",
          "--network=none",
          "--cap-drop=ALL",
          ...serviceCaps("none"),
          "--entrypoint=iptables",
          AGENT_IMAGE,
          "-w",
          "5",
          "-S",
          "FORWARD",
        );
        expect(code).not.toBe(0);
        expect(output).toMatch(/permission denied/i);
      });
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

  it("adds the powers over the node's firewall that the image's iptables back end needs, and no more", () => {
    const args = (backend: "nft" | "legacy" | "none") =>
      agentServiceArgs({ servers: "https://10.0.0.5:7300", iptablesBackend: backend });
    const lock = `--mount=type=bind,src=${XTABLES_LOCK},dst=${XTABLES_LOCK}`;
    const fileCaps = ["--cap-add=CAP_CHOWN", "--cap-add=CAP_DAC_OVERRIDE", "--cap-add=CAP_FOWNER"];
    // nf_tables: netlink, CAP_NET_ADMIN; the default, as Debian 12's iptables.
    expect(serviceCaps("nft")).toEqual([...fileCaps, "--cap-add=CAP_NET_ADMIN"]);
    expect(agentServiceArgs({ servers: "https://10.0.0.5:7300" })).toEqual(args("nft"));
    expect(args("nft")).not.toContain(lock);
    // iptables-legacy: a raw socket too, and the host's lock that the engine's own iptables calls take.
    expect(serviceCaps("legacy")).toEqual([...fileCaps, "--cap-add=CAP_NET_ADMIN", "--cap-add=CAP_NET_RAW"]);
    expect(args("legacy")).toContain(lock);
    // An image without iptables: no power over the firewall at all.
    expect(serviceCaps("none")).toEqual(fileCaps);
    expect(args("none")).not.toContain(lock);
  });
});
