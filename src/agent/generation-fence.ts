import { StalePlacementRefusal } from "../agent-link/stale-placement-refusal.ts";

/** The label a workload's engine container carries its placement generation in (container-config.ts sets it). */
export const GENERATION_LABEL = "berth.generation";

const GENERATION = /^[1-9]\d{0,15}$/;

/** A container's generation label, read strictly; undefined when it has none (single-host berth sets none). */
export function generationOfLabels(labels: Record<string, string> | undefined): number | undefined {
  const text = labels?.[GENERATION_LABEL];
  if (text === undefined || !GENERATION.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The newest placement generation this agent has been told for each
 * workload, and the check every stamped call passes: a call routed by an
 * older generation than that is refused (StalePlacementRefusal, the link's
 * STALE_PLACEMENT) — it comes from a server that has not heard that the
 * workload was placed anew — and a newer one is learnt. The agent learns
 * from every stamped call and from the generation label of every create
 * body, and at start from the labels of the containers on its engine.
 *
 * A fencing token as a resource checks one: the highest seen wins, and
 * nothing is ever learnt backwards. One map lookup per call: this sits on
 * the channel's request path.
 */
export class GenerationFence {
  readonly #known = new Map<string, number>();

  /**
   * Passes a call about `containerId` stamped with `generation` (undefined: not stamped — a call that
   * names no placement, such as the removal of a stale copy — always passes), learning it when newer.
   * Throws StalePlacementRefusal when it is older than the newest known.
   */
  check(containerId: string, generation: number | undefined): void {
    if (generation === undefined) return;
    const known = this.#known.get(containerId);
    if (known === undefined || generation > known) this.#known.set(containerId, generation);
    else if (generation < known) throw new StalePlacementRefusal(containerId, generation, known);
  }

  /** Learns a generation without a call to check (a copy found on the engine); never lowers one. */
  learn(containerId: string, generation: number): void {
    const known = this.#known.get(containerId);
    if (known === undefined || generation > known) this.#known.set(containerId, generation);
  }

  /** The newest generation known for the container; undefined when none. */
  known(containerId: string): number | undefined {
    return this.#known.get(containerId);
  }

  /** Forgets a workload whose files left this node (its channel closed, its copy removed). */
  forget(containerId: string): void {
    this.#known.delete(containerId);
  }
}
