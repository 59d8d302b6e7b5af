import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** A Swarm node id as `docker info` (Swarm.NodeID) and `docker node ls` say it. */
export const SWARM_NODE_ID = /^[a-z0-9]{1,64}$/;

/**
 * What each derivation is bound to: the scheme and its version, so that the
 * same master key used for anything else one day yields different values.
 */
const LABEL = "berth-agent-credential:v1:";

/** A credential as deriveAgentCredential writes it: base64url of a SHA-256 HMAC (32 bytes, 43 characters). */
export const AGENT_CREDENTIAL = /^[A-Za-z0-9_-]{43}$/;

/**
 * The credential of one node's agent, derived from the API servers' master
 * key (BERTH_AGENT_TOKEN) and the node's Swarm id. Nothing is stored: each
 * API server derives the credential of the node id a hello claims and
 * compares. A node holds only its own credential, so one compromised node
 * cannot pose as another, and the master key never sits on a node.
 *
 * @example
 *   deriveAgentCredential(masterKey, "n3abcdefghijklmnopqrstuvw"); // "Yx0…" (43 characters)
 */
export function deriveAgentCredential(masterKey: string, nodeId: string): string {
  return createHmac("sha256", masterKey)
    .update(LABEL + nodeId)
    .digest("base64url");
}

/**
 * Whether `credential` is the one of `nodeId`; in constant time, by digest,
 * so that neither the credential's bytes nor its length show in the timing.
 */
export function isAgentCredential(masterKey: string, nodeId: string, credential: string): boolean {
  return timingSafeEqual(digest(credential), digest(deriveAgentCredential(masterKey, nodeId)));
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
