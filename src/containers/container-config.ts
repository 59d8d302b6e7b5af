import type { Config } from "../config/config.ts";
import type { ContainerCreateBody } from "../docker/docker-client.ts";
import type { StoredSpec } from "./container-spec.ts";
import { effectiveLimits } from "./effective-limits.ts";

export const SOCKET_DIR_IN_CONTAINER = "/run/berth";
export const SOCKET_PATH_IN_CONTAINER = "/run/berth/berth.sock";
export const CODE_DIR_IN_CONTAINER = "/run/berth-code";
/**
 * The working directory of a container with code: the read-only code mount's
 * `current` pointer, a link the engine resolves at each start (checked on
 * Docker 20.10: the process starts in the release it names, and after an
 * update and a restart in the new one). So an image needs no /app link of its
 * own; berth's images keep one for older specs' commands.
 */
export const CODE_WORKDIR_IN_CONTAINER = `${CODE_DIR_IN_CONTAINER}/current`;

export interface CreateBodyInput {
  id: string;
  owner: string;
  instanceId: string;
  uid: number;
  spec: StoredSpec;
  image: string;
  socketDir: string;
  /** The code directory (releases and the `current` pointer), mounted read-only at /run/berth-code. */
  codeDir: string;
  /** Whether there is code: /run/berth-code/current is then the working directory (else /). */
  hasCode: boolean;
  /** The owner's own bridge network, for `network: 'outbound'`. */
  networkName: string | undefined;
  config: Config;
  /**
   * Cluster mode: the placement generation this copy is made under, as the label `berth.generation` —
   * the node's agent learns it, and refuses calls routed by an older one. Single-host berth has none.
   */
  generation?: number | undefined;
}

/** The labels that make a container berth's, and this berth instance's. */
export function managedLabels(instanceId: string): Record<string, string> {
  return { "berth.managed": "true", "berth.instance": instanceId };
}

/**
 * The engine's create body for a workload, hardened by default: its own
 * unprivileged uid, every capability dropped, no-new-privileges, a read-only
 * root filesystem with a small tmpfs /tmp, an init process so signals reach
 * the workload, pid and memory limits, rotated logs, and no network unless
 * asked for and allowed. Nothing from the client becomes a host path.
 */
export function buildCreateBody(input: CreateBodyInput): ContainerCreateBody {
  const { spec, config } = input;
  const { memoryBytes, nanoCpus, pids } = effectiveLimits(spec, config);
  const env = [
    ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ...Object.entries(spec.secretEnv ?? {}).map(([k, v]) => `${k}=${v}`),
    `BERTH_SOCKET=${SOCKET_PATH_IN_CONTAINER}`,
    `BERTH_ID=${input.id}`,
    `BERTH_NAME=${spec.name}`,
  ];
  const mounts = [
    { Type: "bind" as const, Source: input.socketDir, Target: SOCKET_DIR_IN_CONTAINER, ReadOnly: true },
  ];
  mounts.push({ Type: "bind", Source: input.codeDir, Target: CODE_DIR_IN_CONTAINER, ReadOnly: true });
  const networked = input.networkName !== undefined;
  return {
    name: `berth-${input.id}`,
    Image: input.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    Env: env,
    Labels: {
      ...spec.labels,
      ...managedLabels(input.instanceId),
      "berth.id": input.id,
      "berth.owner": input.owner,
      "berth.name": spec.name,
      ...(input.generation === undefined ? {} : { "berth.generation": String(input.generation) }),
    },
    User: `${input.uid}:${input.uid}`,
    WorkingDir: input.hasCode ? CODE_WORKDIR_IN_CONTAINER : "/",
    NetworkDisabled: !networked,
    HostConfig: {
      Init: true,
      Privileged: false,
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      IpcMode: "private",
      Tmpfs: { "/tmp": "rw,nosuid,nodev,size=64m,mode=1777" },
      Memory: memoryBytes,
      MemorySwap: memoryBytes, // equal to Memory: no swap, so the limit is the limit
      PidsLimit: pids,
      // NanoCpus (docker run --cpus) rather than CpuQuota/CpuPeriod: one number, which the engine
      // turns into a CFS quota over its 100 ms period on cgroup v1 and into cpu.max on v2, and
      // checks against the host's CPU count. Always set: a container without one can take every core.
      NanoCpus: nanoCpus,
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      NetworkMode: networked ? input.networkName : "none",
      RestartPolicy: { Name: "no" }, // berth restarts, so that it can tell and count
      Mounts: mounts,
    },
  };
}
