import type { FilesAnswerOf, FilesArgsOf, FilesOp } from "../agent-link/files-ops.ts";
import type { CodeEntryList } from "../code/code-entry.ts";
import { DockerUnavailableError } from "../errors/errors.ts";
import type { ContainerPaths } from "../workload-files/container-paths.ts";
import { nodePaths } from "../workload-files/node-paths.ts";
import type { UndoSteps, WorkloadFiles } from "../workload-files/workload-files.ts";
import type { AgentRegistry } from "./agent-registry.ts";

export interface RemoteWorkloadFilesOptions {
  registry: AgentRegistry;
  /**
   * The node a workload is placed on now (the composition passes the store's placement lookup: read at
   * every call, so that no server routes by a placement another server has moved since); undefined when none.
   */
  nodeOf: (containerId: string) => Promise<string | undefined>;
  /**
   * The placement now with its generation: when given, calls are routed by it and stamped with the
   * generation, which the agent checks (one older than it knows is refused: CONFLICT, retryable).
   */
  placementOf?: (containerId: string) => Promise<{ nodeId: string; generation: number } | undefined>;
  /** The agents' BERTH_AGENT_MOUNT_ROOT, the same on every node: where the engine of a node finds the files. */
  mountRoot: string;
}

/**
 * A workload's files on the node it is placed on, made by that node's agent:
 * each call goes to the agent connected for the workload's node now, and
 * fails at once with DOCKER_UNAVAILABLE (retryable) while none is — as
 * RemoteDockerClient does, and as the local adapter fails while its engine is
 * down. The agent's errors come back as berth's own classes (STORAGE_ERROR for
 * its disk, VALIDATION_FAILED for entries it refused). The two paths are the
 * node's (nodePaths), for the create body the same agent's engine receives.
 *
 * @example
 *   const files = new RemoteWorkloadFiles({ registry, nodeOf: (id) => placements.nodeOf(id), mountRoot });
 *   await files.writeRelease(id, 2, entries);
 */
export class RemoteWorkloadFiles implements WorkloadFiles {
  readonly #registry: AgentRegistry;
  readonly #nodeOf: (containerId: string) => Promise<string | undefined>;
  readonly #placementOf: RemoteWorkloadFilesOptions["placementOf"];
  readonly #paths: ContainerPaths;

  constructor(options: RemoteWorkloadFilesOptions) {
    this.#registry = options.registry;
    this.#nodeOf = options.nodeOf;
    this.#placementOf = options.placementOf;
    this.#paths = nodePaths(options.mountRoot);
  }

  async layOut(id: string, code: CodeEntryList | undefined, undo: UndoSteps): Promise<void> {
    // Pushed first, as the local steps push theirs: the agent undoes its own half-way failure, and this
    // undoes a lay-out that succeeded there when a later step of the create fails here.
    undo.push("remove workload files on its node", () => this.removeAll(id));
    await this.#call(id, "layOut", [id, code ? [...code] : null]);
  }

  async writeRelease(id: string, release: number, entries: CodeEntryList): Promise<void> {
    await this.#call(id, "writeRelease", [id, release, [...entries]]);
  }

  async switchRelease(id: string, release: number): Promise<void> {
    await this.#call(id, "switchRelease", [id, release]);
  }

  async currentRelease(id: string): Promise<number | undefined> {
    return (await this.#call(id, "currentRelease", [id])) ?? undefined;
  }

  async removeRelease(id: string, release: number): Promise<void> {
    await this.#call(id, "removeRelease", [id, release]);
  }

  async removeAll(id: string): Promise<void> {
    await this.#call(id, "removeAll", [id]);
  }

  sweepCrashLeftovers(id: string): Promise<string[]> {
    return this.#call(id, "sweepCrashLeftovers", [id]);
  }

  socketDir(id: string): string {
    return this.#paths.socketDir(id);
  }

  codeDir(id: string): string {
    return this.#paths.codeDir(id);
  }

  async #call<O extends FilesOp>(id: string, op: O, args: FilesArgsOf<O>): Promise<FilesAnswerOf<O>> {
    const placed = this.#placementOf ? await this.#placementOf(id) : { nodeId: await this.#nodeOf(id) };
    const nodeId = placed?.nodeId;
    const agent = nodeId === undefined ? undefined : this.#registry.agentFor(nodeId);
    if (!agent) {
      throw new DockerUnavailableError({
        details: { op: `files.${op}` },
        cause: new Error(
          nodeId === undefined
            ? `container ${id} is placed on no node`
            : `no node agent of node ${nodeId} is connected`,
        ),
      });
    }
    return agent.callFiles(op, args, placed && "generation" in placed ? placed.generation : undefined);
  }
}
