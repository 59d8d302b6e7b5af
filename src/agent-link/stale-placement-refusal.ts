/**
 * The link's own code for a call a node agent refused because it was routed
 * by an older placement of the container than the agent knows (its
 * generation, the store's fencing token, is lower than one the agent was
 * told before). Not a client's code: the API side turns it into the
 * retryable error of the port called (CHANNEL_NOT_CONNECTED for a channel,
 * CONFLICT for the engine and files), so a client retries, and by then the
 * server routes by the newer placement (docs/cluster.md, "Fencing").
 */
export const STALE_PLACEMENT = "STALE_PLACEMENT" as const;

/** What the agent's GenerationFence throws; it crosses the link as STALE_PLACEMENT (link-error.ts). */
export class StalePlacementRefusal extends Error {
  override readonly name = "StalePlacementRefusal";
  readonly containerId: string;
  /** The generation the call was stamped with. */
  readonly generation: number;
  /** The newest generation the agent knows for the container. */
  readonly known: number;

  constructor(containerId: string, generation: number, known: number) {
    super(
      `container ${containerId}: a call routed by placement generation ${generation}, older than generation ${known}`,
    );
    this.containerId = containerId;
    this.generation = generation;
    this.known = known;
  }
}
