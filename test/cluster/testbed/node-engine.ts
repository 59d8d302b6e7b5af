import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Dockerode from "dockerode";
import { AGENT_ROOT, type NodeNames } from "./names.ts";
import { isAlive, signal, waitForExit } from "./processes.ts";

const ANSWER_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

/**
 * One node's `dockerd`, in the node's network namespace and a UTS namespace of
 * its own (so Swarm sees the node's hostname), with its own data and exec
 * roots, socket and pid file under the node's directory. It is found again by
 * its pid file, so a later process (`cluster-testbed.ts down`) can stop what
 * an earlier one started.
 *
 * Started with `nsenter --net=…`, not `ip netns exec`, which remounts /sys
 * and hides the cgroup mounts from dockerd (`Devices cgroup isn't mounted`).
 */
export class NodeEngine {
  readonly node: NodeNames;
  readonly docker: Dockerode;
  /**
   * Whether the engine keeps its firewall rules (`--iptables`), in the node's own namespace: what an egress
   * filter needs (Docker's DOCKER-USER chain, NAT of its bridges). Off unless a test asks for it.
   */
  iptables = false;

  constructor(node: NodeNames) {
    this.node = node;
    this.docker = new Dockerode({ socketPath: node.socketPath, timeout: 30_000 });
  }

  get #pidFile(): string {
    return join(this.node.dir, "dockerd.pid");
  }

  /** dockerd's pid, when it runs. */
  async pid(): Promise<number | undefined> {
    const text = (await readFile(this.#pidFile, "utf8").catch(() => "")).trim();
    if (!/^\d+$/.test(text)) return undefined;
    return (await isAlive(Number(text))) ? Number(text) : undefined;
  }

  async start(): Promise<void> {
    if ((await this.pid()) !== undefined) return;
    const { dir } = this.node;
    await mkdir(dir, { recursive: true });
    // The engine-wide default, since a Swarm service cannot ask for no-new-privileges
    // (no security_opt in a service spec); and a cgroup parent named after the node,
    // by which a clean-up finds the processes of containers whose engine is gone.
    const config = { "no-new-privileges": true, "cgroup-parent": this.node.cgroupParent };
    await writeFile(join(dir, "daemon.json"), `${JSON.stringify(config, null, 2)}\n`);
    await rm(this.#pidFile, { force: true });
    await this.#forgetDeadContainerd();
    const log = openSync(join(dir, "dockerd.log"), "a");
    let child: ReturnType<typeof spawn>;
    try {
      // nsenter and unshare exec (no fork), and so does the shell: the child's pid is dockerd's.
      // Detached: its own session, so that a Ctrl-C of whoever started it does not reach it.
      child = spawn(
        "nsenter",
        [
          `--net=/var/run/netns/${this.node.netns}`,
          "unshare",
          "--uts",
          // A mount namespace of its own: AGENT_ROOT is this node's own disk in it (see NodeNames.agentDisk).
          "--mount",
          "--propagation",
          "private",
          "sh",
          "-c",
          'hostname "$0" && mkdir -p "$1" "$2" && mount --bind "$1" "$2" && shift 2 && exec "$@"',
          this.node.hostname,
          this.node.agentDisk,
          AGENT_ROOT,
          "dockerd",
          `--config-file=${join(dir, "daemon.json")}`,
          `--data-root=${join(dir, "d")}`,
          `--exec-root=${join(dir, "x")}`,
          `--pidfile=${this.#pidFile}`,
          `--host=unix://${this.node.socketPath}`,
          `--iptables=${this.iptables}`,
        ],
        { detached: true, stdio: ["ignore", log, log] },
      );
    } finally {
      closeSync(log);
    }
    child.unref();
    let spawnError: Error | undefined;
    child.once("error", (err) => {
      spawnError = err;
    });
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    for (;;) {
      if (spawnError) throw spawnError;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `${this.node.hostname}: dockerd exited (${child.exitCode ?? child.signalCode})\n${await this.logTail()}`,
        );
      }
      try {
        await this.docker.ping();
        return;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`${this.node.hostname}: dockerd did not answer within ${ANSWER_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  /** SIGTERM, and SIGKILL when it has not exited after 20 s. */
  async stop(): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) return;
    signal(pid, "SIGTERM");
    if (!(await waitForExit(pid, STOP_TIMEOUT_MS))) await this.kill();
  }

  /**
   * SIGKILL to dockerd alone, as when a host's engine crashes: its containers
   * run on under their shims until it starts again (without live-restore it
   * then stops them).
   */
  async kill(): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) return;
    signal(pid, "SIGKILL");
    await waitForExit(pid, STOP_TIMEOUT_MS);
    await this.#forgetDeadContainerd();
  }

  /**
   * dockerd's containerd dies with it, but a zombie whose pid is still in
   * containerd.pid makes the next dockerd wait for it in vain (nobody reaps
   * here); on a host whose init reaps, the pid would be gone, and so the file goes.
   */
  async #forgetDeadContainerd(): Promise<void> {
    const pidFile = join(this.node.dir, "x", "containerd", "containerd.pid");
    const text = (await readFile(pidFile, "utf8").catch(() => "")).trim();
    if (!/^\d+$/.test(text)) return;
    await waitForExit(Number(text), STOP_TIMEOUT_MS);
    await rm(pidFile, { force: true });
  }

  async logTail(lines = 30): Promise<string> {
    const text = await readFile(join(this.node.dir, "dockerd.log"), "utf8").catch(() => "");
    return text.split("\n").slice(-lines).join("\n");
  }
}
