/** What the gate knows of a container's node without asking: the node (or none), or that it must ask. */
export type KnownPlacement = { nodeId: string | undefined } | "ask";

/**
 * Where containers are placed, for judging what a node's agent may speak
 * for: only containers placed on its own node. The placement is read from
 * the store every API server shares (`read`), which another server may
 * change at any moment (a workload moved off a lost node), so an answer is
 * taken as known for `freshMs` only; after that it is read again.
 */
export class PlacementGate {
  readonly #read: (containerId: string) => Promise<string | undefined>;
  readonly #freshMs: number;
  readonly #now: () => number;
  readonly #known = new Map<string, { nodeId: string | undefined; at: number }>();

  constructor(
    read: (containerId: string) => Promise<string | undefined>,
    options: { freshMs?: number; now?: () => number } = {},
  ) {
    this.#read = read;
    this.#freshMs = options.freshMs ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  /** The container's node now, read from the store (and known for `freshMs` after). */
  async nodeOf(containerId: string): Promise<string | undefined> {
    const nodeId = await this.#read(containerId);
    // With no freshness nothing is kept (a map of every id an agent ever named would only grow).
    if (this.#freshMs > 0) this.#known.set(containerId, { nodeId, at: this.#now() });
    return nodeId;
  }

  /** The node read less than `freshMs` ago, or "ask". */
  known(containerId: string): KnownPlacement {
    const known = this.#known.get(containerId);
    if (!known) return "ask";
    if (this.#now() - known.at >= this.#freshMs) {
      this.#known.delete(containerId);
      return "ask";
    }
    return { nodeId: known.nodeId };
  }

  /** Forgets what was read of a container (its channel closed here). */
  forget(containerId: string): void {
    this.#known.delete(containerId);
  }
}
