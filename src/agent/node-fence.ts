import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentLease, LeaseState } from "./agent-lease.ts";
import type { FencedChannels } from "./fenced-channels.ts";
import { type GenerationFence, generationOfLabels } from "./generation-fence.ts";

export interface NodeFenceOptions {
  lease: AgentLease;
  channels: FencedChannels | undefined;
  /** This node's engine (berth's workloads only). */
  docker: Pick<DockerClient, "listContainers" | "stopContainer" | "startContainer">;
  generations: GenerationFence;
  /** The grace an engine stop gives a workload before it kills it (BERTH_STOP_TIMEOUT_SEC). */
  stopTimeoutSec: number;
  /**
   * The fence on the channels is lifted: the agent tells every server how its channels stand (a snapshot),
   * and each opens again those it opened here whose workloads are still placed on this node.
   */
  onLifted?: () => void;
  log: SystemLogger;
}

/** The labels of every berth workload on a node (container-config.ts's managedLabels, any instance). */
const WORKLOADS = { "berth.managed": "true" };

/**
 * What an agent does as its lease changes (AgentLease): `lapsed` → every
 * workload channel of the node closed and channel calls refused
 * (FencedChannels); `fenced` → every running workload of the node stopped,
 * with the usual grace; `held` again → channel calls served again, and every
 * server told how the channels stand, so that each opens again those of its
 * workloads still placed here (they reconnect by themselves; one moved away
 * meanwhile gets no socket here again). A workload it stopped is started
 * again only when berth says it is still placed here under the very
 * generation of the stopped copy: a server, routing by the current
 * placement, opens its channel again (`channelOpened`). One moved away
 * meanwhile gets no such call, stays stopped, and is removed by the sweep of
 * stale copies. Each step goes to the agent's system log.
 */
export class NodeFence {
  readonly #o: NodeFenceOptions;
  readonly #log: SystemLogger;
  #stopping: Promise<void> | undefined;
  /** The copies the fence stopped, by workload: started again only on berth's word (channelOpened). */
  readonly #stopped = new Map<string, { dockerId: string; generation: number | undefined }>();

  constructor(options: NodeFenceOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "fence" });
    options.lease.on("changed", this.#onChanged);
  }

  /** Learns the generation of every berth workload on the engine (at start: an agent restarted knows them again). */
  async learnGenerations(): Promise<void> {
    for (const c of await this.#o.docker.listContainers(WORKLOADS)) {
      const id = c.labels["berth.id"];
      const generation = generationOfLabels(c.labels);
      if (id !== undefined && generation !== undefined) this.#o.generations.learn(id, generation);
    }
  }

  /**
   * A server opened the channel of `containerId` on this node, with a call that passed the generation
   * check: berth places the workload here now. If the fence stopped its copy and that copy's generation is
   * the newest known (not an older copy of a workload placed here anew), the copy is started again.
   */
  async channelOpened(containerId: string): Promise<void> {
    const stopped = this.#stopped.get(containerId);
    if (!stopped) return;
    this.#stopped.delete(containerId);
    const known = this.#o.generations.known(containerId);
    if (stopped.generation !== known) {
      this.#log.warn(
        { containerId, generation: stopped.generation, known },
        "a workload the fence stopped is placed here anew: its old copy stays stopped",
      );
      return;
    }
    try {
      await this.#o.docker.startContainer(stopped.dockerId);
      this.#log.warn(
        { containerId, dockerId: stopped.dockerId, generation: known },
        "started again a workload the fence stopped: berth still places it on this node",
      );
    } catch (err) {
      this.#log.error({ err, containerId }, "could not start again a workload the fence stopped");
    }
  }

  /** The workloads' stop under way, if any (tests). */
  get stopping(): Promise<void> | undefined {
    return this.#stopping;
  }

  close(): void {
    this.#o.lease.off("changed", this.#onChanged);
  }

  readonly #onChanged = (state: LeaseState, before: LeaseState, silentMs: number): void => {
    if (state === "lapsed") {
      this.#log.warn({ silentMs }, "no API server has renewed this agent's lease: fencing its channels");
      void this.#o.channels?.fence();
    } else if (state === "fenced") {
      this.#log.error({ silentMs }, "still no renewal after the grace: stopping this node's workloads");
      this.#stopping = this.#stopAll();
    } else {
      this.#log.info({ was: before, silentMs }, "lease renewed: serving this node's channels again");
      void this.#o.channels?.lift().then(() => this.#o.onLifted?.());
    }
  };

  async #stopAll(): Promise<void> {
    try {
      const running = (await this.#o.docker.listContainers(WORKLOADS)).filter((c) => c.state === "running");
      await Promise.all(
        running.map(async (c) => {
          const containerId = c.labels["berth.id"];
          try {
            await this.#o.docker.stopContainer(c.dockerId, this.#o.stopTimeoutSec);
            if (containerId !== undefined)
              this.#stopped.set(containerId, {
                dockerId: c.dockerId,
                generation: generationOfLabels(c.labels),
              });
            this.#log.warn({ containerId, dockerId: c.dockerId }, "stopped a workload: fenced");
          } catch (err) {
            this.#log.error({ err, containerId }, "could not stop a fenced workload");
          }
        }),
      );
      this.#log.error({ stopped: running.length }, "this node's workloads are stopped until berth decides");
    } catch (err) {
      this.#log.error({ err }, "could not list this node's workloads to stop them");
    }
  }
}
