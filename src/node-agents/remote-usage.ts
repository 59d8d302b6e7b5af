import type { UsageSample } from "../agent-link/usage-ops.ts";
import { DockerUnavailableError, NotFoundError } from "../errors/errors.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { parseEngineHandle } from "./engine-handle.ts";

export interface RemoteUsageOptions {
  registry: AgentRegistry;
  /** The node a workload is placed on now (the placement cache), undefined when it is placed nowhere. */
  nodeOf: (containerId: string) => Promise<string | undefined>;
}

/**
 * Workloads' resource usage in cluster mode, sampled by the agent of the node
 * each runs on: a workload's cgroup files are that node's, and read on an API
 * server's host they would be a stranger's. A sample names the engine copy
 * by its handle (`<node>:<engine id>`, engine-handle.ts) and goes to the
 * agent connected for that node now — only while the workload is placed
 * there: a copy its placement has left (moved while being watched, or a
 * stale copy a cut-off node still runs) is NOT_FOUND, never passed off as
 * the workload's usage. No agent connected for the node: DOCKER_UNAVAILABLE
 * (retryable), as the engine's own stats fail while it is down.
 *
 * @example
 *   const usage = new RemoteUsage({ registry, nodeOf: (id) => placements.nodeOf(id) });
 *   const { usage: now } = await usage.sample(id, record.dockerId, false);
 */
export class RemoteUsage {
  readonly #registry: AgentRegistry;
  readonly #nodeOf: (containerId: string) => Promise<string | undefined>;

  constructor(options: RemoteUsageOptions) {
    this.#registry = options.registry;
    this.#nodeOf = options.nodeOf;
  }

  /**
   * One sample of workload `containerId`'s engine copy `handle`; `fresh`: its agent forgets what it kept of
   * it first. The reading's `dockerId` is the handle, so that a hold set on it (the pressure monitor's CPU
   * limit) reaches the same copy through the cluster's engine port.
   */
  async sample(containerId: string, handle: string, fresh: boolean): Promise<UsageSample> {
    const h = parseEngineHandle(handle);
    if (h === undefined) throw new NotFoundError();
    const placed = await this.#nodeOf(containerId);
    if (placed !== h.nodeId) throw new NotFoundError();
    const agent = this.#registry.agentFor(h.nodeId);
    if (!agent) {
      throw new DockerUnavailableError({
        details: { op: "usage.sample" },
        cause: new Error(`no node agent of node ${h.nodeId} is connected`),
      });
    }
    const sample = await agent.callUsage("sample", [h.engineId, fresh]);
    return sample.pressure === undefined
      ? sample
      : { ...sample, pressure: { ...sample.pressure, dockerId: handle } };
  }
}
