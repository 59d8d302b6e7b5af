import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { NodeNames } from "./testbed/names.ts";

const root = new URL("../../", import.meta.url).pathname;
const END_WITH_PARENT = new URL("../../bench/end-with-parent.ts", import.meta.url).pathname;

/**
 * berth's node agent (`src/agent/main.ts`, as `npm run agent` runs it) as a
 * process of its own inside a test bed node's network namespace, serving that
 * node's engine: it reaches the API servers on the bridge address, as an
 * agent on a real host reaches them over its network. Ended with the test's
 * worker, however that ends (bench/end-with-parent.ts).
 */
export class AgentProcess {
  readonly child: ChildProcess;
  /** Every line it wrote so far, stdout and stderr. */
  readonly lines: string[] = [];
  readonly exited: Promise<unknown>;

  /** `credential`: the one of the node id it will claim (its engine's), or, in a test of refusals, another's. */
  /** `fencing`: the agent's BERTH_AGENT_LEASE_MS and BERTH_AGENT_FENCE_GRACE_MS (its defaults otherwise); `extra`: more of its environment. */
  constructor(
    node: NodeNames,
    env: {
      servers: string;
      credential: string;
      mountRoot: string;
      fencing?: { leaseMs: number; graceMs: number };
      extra?: Record<string, string>;
    },
  ) {
    // nsenter execs the program (no fork): the child's pid is the agent's, so a signal reaches it. It joins
    // the node's dockerd in its mount namespace too, where AGENT_ROOT is the node's own disk (names.ts).
    const dockerd = readFileSync(join(node.dir, "dockerd.pid"), "utf8").trim();
    this.child = spawn(
      "nsenter",
      [
        `--net=/var/run/netns/${node.netns}`,
        `--mount=/proc/${dockerd}/ns/mnt`,
        // Entering a mount namespace moves to its root directory: back to berth's.
        `--wd=${root}`,
        process.execPath,
        "--import",
        END_WITH_PARENT,
        "src/agent/main.ts",
      ],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? "",
          BERTH_AGENT_SERVERS: env.servers,
          BERTH_AGENT_CREDENTIAL: env.credential,
          BERTH_DOCKER_SOCKET: node.socketPath,
          BERTH_AGENT_MOUNT_ROOT: env.mountRoot,
          // The test bed's bridge is a network of the test's own.
          BERTH_AGENT_ALLOW_HTTP: "true",
          BERTH_LOG_LEVEL: "debug",
          ...(env.fencing === undefined
            ? {}
            : {
                BERTH_AGENT_LEASE_MS: String(env.fencing.leaseMs),
                BERTH_AGENT_FENCE_GRACE_MS: String(env.fencing.graceMs),
              }),
          ...env.extra,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.exited = once(this.child, "exit");
    for (const stream of [this.child.stdout!, this.child.stderr!])
      createInterface({ input: stream }).on("line", (line) => this.lines.push(line));
  }

  get output(): string {
    return this.lines.join("\n");
  }

  /** Sends `signal` and waits for the process to be gone. Safe when it already is. */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }
}
