import type { ContainerCreateBody } from "../docker/docker-client.ts";
import { ConflictError, InternalError } from "../errors/errors.ts";

/** Where each workload is placed now: its node, and (when known) its generation. */
export interface PlacementLookup {
  nodeOf(containerId: string): Promise<string | undefined>;
  placementOf?(containerId: string): Promise<{ nodeId: string; generation: number } | undefined>;
}

/** The label every berth container carries: its berth id (container-config.ts's managedLabels). */
const ID_LABEL = "berth.id";
/** A copy's placement generation (container-config.ts): its node's agent learns it from the create. */
const GENERATION_LABEL = "berth.generation";

/**
 * The node a create body goes to: its workload's placement's node, under the
 * generation the body is labelled with. A body labelled with another
 * generation than the placement's now was made for a placement that has
 * moved since: refused (CONFLICT, retryable, `details.reason: "stale_placement"`)
 * before any node sees it. A workload placed nowhere cannot be created
 * (INTERNAL: the create path's bug, never a client's).
 */
export async function createTarget(body: ContainerCreateBody, placements: PlacementLookup): Promise<string> {
  const id = body.Labels?.[ID_LABEL];
  if (id === undefined) throw new InternalError({ cause: new Error("a container without berth's id label") });
  const generation = body.Labels?.[GENERATION_LABEL];
  const placed =
    placements.placementOf && generation !== undefined
      ? await placements.placementOf(id)
      : await placements.nodeOf(id).then((nodeId) => (nodeId === undefined ? undefined : { nodeId }));
  if (placed === undefined)
    throw new InternalError({
      cause: new Error(`container ${id} is placed on no node; it cannot be created`),
    });
  if ("generation" in placed && String(placed.generation) !== generation)
    throw new ConflictError("The container was placed on another node meanwhile; try again.", {
      details: { reason: "stale_placement" },
      cause: new Error(
        `create of ${id} under generation ${generation}; its placement is at ${placed.generation}`,
      ),
    });
  return placed.nodeId;
}
