import type { ContainerCreateBody, DockerClient } from "../docker/docker-client.ts";
import { DockerUnavailableError } from "../errors/errors.ts";
import { type GenerationFence, generationOfLabels } from "./generation-fence.ts";

const ID_LABEL = "berth.id";

/**
 * What the agent checks before its engine makes or starts a workload: that
 * its lease is held (an agent no server vouches for starts nothing: what it
 * would start may be a copy berth has placed elsewhere by now —
 * DOCKER_UNAVAILABLE, retryable), and that the copy's placement generation
 * is not older than the newest the agent knows for the workload (the
 * create body's `berth.generation` label is learnt; a copy made under an
 * older generation is not started again — StalePlacementRefusal). Every
 * other engine call (stop, remove, inspect, list) passes: they are how a
 * stale copy is cleared away.
 */
export class EngineFence {
  readonly #lease: { readonly held: boolean };
  readonly #generations: GenerationFence;
  readonly #engine: Pick<DockerClient, "inspectContainer">;
  /** The copies this agent made, by engine id: a start needs no inspect for them. Forgotten at removal. */
  readonly #made = new Map<string, { id: string; generation: number | undefined }>();

  constructor(
    lease: { readonly held: boolean },
    generations: GenerationFence,
    engine: Pick<DockerClient, "inspectContainer">,
  ) {
    this.#lease = lease;
    this.#generations = generations;
    this.#engine = engine;
  }

  /** Before a create: the lease held, and the body's generation learnt (or refused as stale). */
  create(body: ContainerCreateBody): void {
    this.#held("createContainer");
    const labels = body.Labels;
    const id = labels?.[ID_LABEL];
    if (id !== undefined) this.#generations.check(id, generationOfLabels(labels));
  }

  /** After a create: the copy's workload and generation, so that its start costs no inspect. */
  created(body: ContainerCreateBody, engineId: string): void {
    const id = body.Labels?.[ID_LABEL];
    if (id !== undefined) this.#made.set(engineId, { id, generation: generationOfLabels(body.Labels) });
  }

  /** After a removal: forgotten. */
  removed(ref: string): void {
    this.#made.delete(ref);
  }

  /** Before a start: the lease held, and the copy no older than the newest generation known. */
  async start(ref: string): Promise<void> {
    this.#held("startContainer");
    let copy = this.#made.get(ref);
    if (copy === undefined) {
      // A copy made before this agent started, or named by its name: its labels say.
      const labels = (await this.#engine.inspectContainer(ref))?.Config?.Labels ?? undefined;
      const id = labels?.[ID_LABEL];
      copy = id === undefined ? undefined : { id, generation: generationOfLabels(labels) };
    }
    if (copy !== undefined) this.#generations.check(copy.id, copy.generation);
  }

  #held(op: string): void {
    if (this.#lease.held) return;
    throw new DockerUnavailableError({
      details: { op, reason: "fenced" },
      cause: new Error("this node agent's lease has lapsed: it makes and starts nothing until renewed"),
    });
  }
}
