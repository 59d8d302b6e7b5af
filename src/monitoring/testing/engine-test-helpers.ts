import { randomBytes } from "node:crypto";
import type Dockerode from "dockerode";
import type { ContainerTarget } from "../container-target.ts";
import type { EngineStats } from "../engine-stats.ts";

/**
 * Real-engine helpers for this folder's integration tests. The adapters here
 * are deliberately thin stand-ins: in berth, EngineStats and ContainerTarget
 * are served by the Docker adapter in src/docker, which maps engine errors.
 */
export const RUNTIME_IMAGE = "berth/runtime-node:24";

export function testLabel(): Record<string, string> {
  return { "berth.test": `monitoring-${randomBytes(4).toString("hex")}` };
}

export async function startContainer(
  docker: Dockerode,
  labels: Record<string, string>,
  cmd: string[],
  hostConfig: Dockerode.HostConfig = {},
): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    Image: RUNTIME_IMAGE,
    Cmd: cmd,
    Labels: labels,
    HostConfig: { NetworkMode: "none", ...hostConfig },
  });
  await container.start();
  return container;
}

export async function removeLabelled(docker: Dockerode, labels: Record<string, string>): Promise<void> {
  const filters = { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) };
  const found = await docker.listContainers({ all: true, filters });
  await Promise.all(found.map((c) => docker.getContainer(c.Id).remove({ force: true })));
}

export function engineStatsOf(docker: Dockerode): EngineStats {
  return { stats: (dockerId) => docker.getContainer(dockerId).stats({ stream: false }) };
}

export function targetOf(docker: Dockerode, dockerId: string): ContainerTarget {
  return {
    resolve: async () => {
      const info = await docker.getContainer(dockerId).inspect();
      return { dockerId: info.Id, pid: info.State.Pid };
    },
  };
}
