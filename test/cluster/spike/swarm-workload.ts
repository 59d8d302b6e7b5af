import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ROOT_DIR } from "../testbed/names.ts";
import { PROBE_SCRIPT } from "./hardening-probe.ts";

/** Where a node's socket directories are, per node and service: the engine fills in the templates on the node. */
export const SOCKET_DIRS = join(ROOT_DIR, "run");
export const SOCKET_DIR_TEMPLATE = join(SOCKET_DIRS, "{{.Node.ID}}", "{{.Service.Name}}");

/** Makes the socket directory the template names for a service on a node: a bind mount's source must exist. */
export async function makeSocketDir(nodeId: string, service: string, suffix = ""): Promise<string> {
  const dir = join(SOCKET_DIRS, nodeId, `${service}${suffix}`);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  return dir;
}

export interface SwarmWorkloadOptions {
  name: string;
  uid: number;
  image: string;
  /** Placement constraints, e.g. `node.hostname==berthc-n3`. */
  constraints: string[];
  env?: string[];
  /** The socket directory's source (default: SOCKET_DIR_TEMPLATE). */
  socketDirSource?: string;
  /** Swarm's update order: stop the old task first (the default, one copy at a time) or start the new one first. */
  updateOrder?: "stop-first" | "start-first";
  /** Swarm's delay before it starts a task again after one ended (default 1 s). */
  restartDelayMs?: number;
}

/**
 * A Swarm service spec for one workload with every option of berth's
 * hardening that a service accepts (checked on engine 20.10, API 1.41): its
 * own uid, every capability dropped, a read-only root with a tmpfs /tmp, an
 * init, pids, memory and CPU limits, rotated logs, the socket directory as a
 * read-only bind mount whose source the node fills in. Not expressible: no
 * security_opt (no-new-privileges comes from the node engine's daemon.json),
 * no network `none`, no MemorySwap (the engine then allows as much swap
 * again as memory), no IpcMode.
 */
export function swarmWorkloadSpec(o: SwarmWorkloadOptions): object {
  const labels = {
    "berth.managed": "true",
    "berth.instance": "spike",
    "berth.id": o.name,
    "berth.name": o.name,
  };
  return {
    Name: o.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        Command: ["node", "-e", PROBE_SCRIPT],
        Dir: "/",
        User: `${o.uid}:${o.uid}`,
        Labels: labels,
        Env: [...(o.env ?? []), "BERTH_SOCKET=/run/berth/berth.sock", `BERTH_ID=${o.name}`],
        ReadOnly: true,
        Init: true,
        CapabilityDrop: ["ALL"],
        StopGracePeriod: 10e9,
        Mounts: [
          {
            Type: "bind",
            Source: o.socketDirSource ?? SOCKET_DIR_TEMPLATE,
            Target: "/run/berth",
            ReadOnly: true,
          },
          { Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 } },
        ],
      },
      Resources: { Limits: { MemoryBytes: 256 * 1024 * 1024, NanoCPUs: 1e9, Pids: 256 } },
      RestartPolicy: { Condition: "any", Delay: (o.restartDelayMs ?? 1000) * 1e6 },
      Placement: { Constraints: o.constraints },
      LogDriver: { Name: "json-file", Options: { "max-size": "10m", "max-file": "3" } },
    },
    Mode: { Replicated: { Replicas: 1 } },
    UpdateConfig: { Order: o.updateOrder ?? "stop-first", Parallelism: 1 },
  };
}
