import { z } from "zod";
import { DockerUnavailableError } from "../errors/errors.ts";

/**
 * A Docker host of the cluster as Swarm sees it (`docker node ls`, the
 * engine's `GET /nodes`): berth's membership and failure detection are
 * Swarm's, not its own (docs/cluster.md). Only what placement needs.
 */
export interface SwarmNode {
  /** Swarm's node id: the key of everything berth keeps per node (its agent, its placements). */
  id: string;
  hostname: string;
  /** Swarm's view of the node's health: `ready`, or `down`/`disconnected`/`unknown` when it cannot reach it. */
  state: "ready" | "down" | "disconnected" | "unknown";
  /** The operator's say: `active` takes workloads, `pause` keeps but takes no new ones, `drain` is being emptied. */
  availability: "active" | "pause" | "drain";
  /** What the node has, as its engine reports it. */
  cpus: number;
  memoryBytes: number;
  /** The operator's node labels (`docker node update --label-add`), for placement constraints. */
  labels: Record<string, string>;
}

/** Where the nodes are read: one of the Swarm's managers. */
export interface SwarmNodeSource {
  /**
   * Every node; DOCKER_UNAVAILABLE when the manager cannot be asked or does not answer as Swarm does.
   * `signal` aborts a question the asker no longer waits for.
   */
  listNodes(signal?: AbortSignal): Promise<SwarmNode[]>;
}

/** A node that may be given a new workload: up, and the operator has not paused or drained it. */
export function isSchedulable(node: SwarmNode): boolean {
  return node.state === "ready" && node.availability === "active";
}

/** The engine's answer is input too: read strictly, so a manager answering oddly fails loudly, never places wrongly. */
const RawNode = z.object({
  ID: z.string().min(1),
  Description: z
    .object({
      Hostname: z.string().optional(),
      Resources: z
        .object({ NanoCPUs: z.number().nonnegative(), MemoryBytes: z.number().nonnegative() })
        .partial(),
    })
    .partial()
    .optional(),
  Spec: z
    .object({
      Availability: z.enum(["active", "pause", "drain"]).optional(),
      Labels: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  Status: z.object({ State: z.string() }),
});

const STATES = new Set<SwarmNode["state"]>(["ready", "down", "disconnected", "unknown"]);

/** Reads the engine's `GET /nodes` answer; DOCKER_UNAVAILABLE when it is not a list of Swarm nodes. */
export function parseSwarmNodes(raw: unknown): SwarmNode[] {
  const parsed = z.array(RawNode).safeParse(raw);
  if (!parsed.success) {
    throw new DockerUnavailableError({
      details: { reason: "the Swarm manager's node list could not be read" },
    });
  }
  return parsed.data.map((n) => {
    const state = n.Status.State as SwarmNode["state"];
    return {
      id: n.ID,
      hostname: n.Description?.Hostname ?? n.ID,
      // A state this berth does not know (a newer engine's) is not a state to place on.
      state: STATES.has(state) ? state : "unknown",
      availability: n.Spec?.Availability ?? "active",
      cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
      memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
      labels: n.Spec?.Labels ?? {},
    };
  });
}

/**
 * A SwarmNodeSource over an engine's `GET /nodes` (dockerode's `listNodes`,
 * handed in by the composition, so that this folder needs nothing of the
 * engine adapter). A manager that fails or is not in a Swarm is DOCKER_UNAVAILABLE.
 */
export function engineSwarmNodes(listNodes: (signal?: AbortSignal) => Promise<unknown>): SwarmNodeSource {
  return {
    async listNodes(signal) {
      let raw: unknown;
      try {
        raw = await listNodes(signal);
      } catch (err) {
        throw new DockerUnavailableError({
          cause: err,
          details: { reason: "the Swarm manager could not be asked for its nodes" },
        });
      }
      return parseSwarmNodes(raw);
    },
  };
}
