import { z } from "zod";
import { ConfigError } from "./config-error.ts";
import { type AccessConfig, AccessEnv, accessConfig } from "./sections/access-config.ts";
import { type ActivityConfig, ActivityEnv, activityConfig } from "./sections/activity-config.ts";
import { type AgentLinkConfig, AgentLinkEnv, agentLinkConfig } from "./sections/agent-link-config.ts";
import { type ChannelConfig, ChannelEnv, channelConfig } from "./sections/channel-config.ts";
import { type ClusterConfig, ClusterEnv, clusterConfig } from "./sections/cluster-config.ts";
import { type CodeConfig, CodeEnv, codeConfig } from "./sections/code-config.ts";
import { type ConnectionConfig, ConnectionEnv, connectionConfig } from "./sections/connection-config.ts";
import { type FanOutConfig, FanOutEnv, fanOutConfig } from "./sections/fan-out-config.ts";
import { type ImageConfig, ImageEnv, imageConfig } from "./sections/image-config.ts";
import { type MonitoringConfig, MonitoringEnv, monitoringConfig } from "./sections/monitoring-config.ts";
import { type NetworkConfig, NetworkEnv, networkConfig } from "./sections/network-config.ts";
import { type OwnerLimitsConfig, OwnerLimitsEnv, ownerLimitsConfig } from "./sections/owner-limits-config.ts";
import { type ServerConfig, ServerEnv, serverConfig } from "./sections/server-config.ts";
import { type WorkloadConfig, WorkloadEnv, workloadConfig } from "./sections/workload-config.ts";

// What the rest of berth takes from here besides loadConfig: ConfigError is what it throws; MIN_CPUS bounds specs.
export { ConfigError } from "./config-error.ts";
export { MIN_CPUS } from "./sections/workload-config.ts";

/**
 * The one place that reads the environment. Everything else receives the
 * frozen Config, so a test builds a server from a plain record and a typo in a
 * variable's value stops berth at start-up with a message naming it.
 *
 * The variables come in sections (sections/), each one part of berth's
 * settings: its variables with their defaults and bounds, the fields they
 * become, and the checks among them. A new setting goes into its section;
 * only a check that spans two sections lives here. A variable belongs to one
 * section only (sections/sections.test.ts).
 */
const EnvSchema = z.object({
  ...ServerEnv,
  ...AccessEnv,
  ...ImageEnv,
  ...WorkloadEnv,
  ...NetworkEnv,
  ...CodeEnv,
  ...ChannelEnv,
  ...OwnerLimitsEnv,
  ...ConnectionEnv,
  ...MonitoringEnv,
  ...ActivityEnv,
  ...AgentLinkEnv,
  ...FanOutEnv,
  ...ClusterEnv,
});

/** berth's whole configuration: every section's fields, flat (`config.maxPayloadBytes`), frozen. */
export interface Config
  extends ServerConfig,
    AccessConfig,
    ImageConfig,
    WorkloadConfig,
    NetworkConfig,
    CodeConfig,
    ChannelConfig,
    OwnerLimitsConfig,
    ConnectionConfig,
    MonitoringConfig,
    ActivityConfig,
    AgentLinkConfig,
    FanOutConfig,
    ClusterConfig {}

/** Reads berth's configuration from `env`; throws a ConfigError that names the variable in question. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  // Each section checks its own values as it is built: the first mistake found stops berth.
  const access = accessConfig(e);
  const monitoring = monitoringConfig(e, env.BERTH_OUTPUT_RATE_LIMIT !== undefined);
  const workload = workloadConfig(e);
  // Code travels inside one message: a code limit at or above the transport's could never be reached.
  if (e.BERTH_MAX_CODE_BYTES >= e.BERTH_MAX_PAYLOAD_BYTES) {
    throw ConfigError.invalid(
      "BERTH_MAX_CODE_BYTES must be below BERTH_MAX_PAYLOAD_BYTES (the transport limit)",
    );
  }
  const network = networkConfig(e);
  const images = imageConfig(e);
  const connection = connectionConfig(e);
  const agentLink = agentLinkConfig(e);
  // One credential, one holder: a client holding the agents' token could pass for a node agent, and the reverse.
  if (
    agentLink.agentToken !== undefined &&
    (agentLink.agentToken === access.adminToken || [...access.tokens.values()].includes(agentLink.agentToken))
  ) {
    throw ConfigError.invalid("BERTH_AGENT_TOKEN must differ from the admin's and every owner's token");
  }
  const server = serverConfig(e);
  const cluster = clusterConfig(e, {
    database: server.database !== undefined,
    agentToken: agentLink.agentToken !== undefined,
  });
  return Object.freeze({
    ...server,
    ...access,
    ...images,
    ...workload,
    ...network,
    ...codeConfig(e),
    ...channelConfig(e),
    ...ownerLimitsConfig(e),
    ...connection,
    ...monitoring,
    ...activityConfig(e),
    ...agentLink,
    ...fanOutConfig(e),
    ...cluster,
  });
}
