import { z } from "zod";
import { ConfigError } from "../config-error.ts";
import { type EnvOf, envBool } from "../env-values.ts";

/**
 * The agent token's least length in bytes. It is the master key every node
 * agent's credential is derived from (agent-link/agent-credential.ts), and an
 * agent holds its node's engine: 32 bytes of randomness (`openssl rand -hex
 * 32` gives 64 characters) put it beyond guessing.
 */
export const MIN_AGENT_TOKEN_BYTES = 32;
const MAX_AGENT_TOKEN_BYTES = 1024;

/** The link to node agents (cluster mode): the master key their credentials are derived from. */
export const AgentLinkEnv = {
  // Checked in agentLinkConfig, whose messages never quote the value.
  BERTH_AGENT_TOKEN: z.string().optional(),
  BERTH_AGENT_CHANNEL_LANES: envBool(true),
};

export interface AgentLinkConfig {
  /**
   * BERTH_AGENT_TOKEN: the master key; node agents connect to the `/agents` namespace each with
   * its node's credential derived from it;
   * undefined (single-host mode): the namespace does not exist.
   */
  readonly agentToken: string | undefined;
  /**
   * BERTH_AGENT_CHANNEL_LANES: whether node agents are offered a channel lane (agent-link/channel-lane.ts),
   * a plain WebSocket beside their link for workload channel traffic; off, the link carries all of it.
   */
  readonly agentChannelLanes: boolean;
}

export function agentLinkConfig(e: EnvOf<typeof AgentLinkEnv>): AgentLinkConfig {
  const token = e.BERTH_AGENT_TOKEN;
  const agentChannelLanes = e.BERTH_AGENT_CHANNEL_LANES;
  if (token === undefined || token === "") return { agentToken: undefined, agentChannelLanes };
  checkAgentToken(token);
  return { agentToken: token, agentChannelLanes };
}

/** Throws a ConfigError when the agent token is too short or too long (the message never quotes it). */
export function checkAgentToken(token: string): void {
  const bytes = Buffer.byteLength(token);
  if (bytes < MIN_AGENT_TOKEN_BYTES || bytes > MAX_AGENT_TOKEN_BYTES) {
    throw ConfigError.invalid(
      `BERTH_AGENT_TOKEN must have ${MIN_AGENT_TOKEN_BYTES}–${MAX_AGENT_TOKEN_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`,
    );
  }
}
