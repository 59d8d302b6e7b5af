import { z } from "zod";
import { ConfigError } from "./config-error.ts";
import { envList } from "./env-values.ts";
import { checkAgentToken } from "./sections/agent-link-config.ts";
import { type ChannelConfig, ChannelEnv, channelConfig } from "./sections/channel-config.ts";
import { ServerEnv } from "./sections/server-config.ts";

/**
 * The node agent's configuration (`npm run agent`, src/agent/main.ts): a
 * program of its own beside the API server, with far fewer settings — where
 * the API servers are, the token it proves itself with, and its node's engine.
 */
const AgentEnvSchema = z.object({
  BERTH_AGENT_SERVERS: envList,
  BERTH_AGENT_TOKEN: z.string().optional(),
  BERTH_DOCKER_SOCKET: ServerEnv.BERTH_DOCKER_SOCKET,
  DOCKER_HOST: ServerEnv.DOCKER_HOST,
  BERTH_LOG_LEVEL: ServerEnv.BERTH_LOG_LEVEL,
  BERTH_AGENT_ALLOW_HTTP: z.enum(["true", "false"]).default("false"),
  BERTH_AGENT_MOUNT_ROOT: z
    .string()
    .regex(/^\/./, "must be an absolute path other than /")
    .default("/var/lib/berth-agent"),
  // The workload channels of this node run in the agent, with the same limits as on a single host.
  ...ChannelEnv,
});

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export interface AgentConfig extends ChannelConfig {
  /** BERTH_AGENT_SERVERS: every API server's base URL (http or https), each dialled. */
  readonly servers: readonly string[];
  readonly agentToken: string;
  /** This node's engine: BERTH_DOCKER_SOCKET, else DOCKER_HOST's unix socket, else /var/run/docker.sock. */
  readonly dockerSocket: string;
  readonly logLevel: string;
  /**
   * BERTH_AGENT_MOUNT_ROOT: the only directory under which a workload's mounts may lie (WorkloadsOnlyEngine);
   * the workloads' socket directories are `<root>/run/<id>`.
   */
  readonly mountRoot: string;
  /** BERTH_AGENT_ALLOW_HTTP: plain http to servers that are not on loopback (said loudly at start). */
  readonly allowHttp: boolean;
}

export function loadAgentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const parsed = AgentEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (e.BERTH_AGENT_TOKEN === undefined || e.BERTH_AGENT_TOKEN === "")
    throw ConfigError.invalid(
      "BERTH_AGENT_TOKEN is required: the token the API servers expect of node agents",
    );
  checkAgentToken(e.BERTH_AGENT_TOKEN);
  if (e.BERTH_AGENT_SERVERS.length === 0)
    throw ConfigError.invalid("BERTH_AGENT_SERVERS is required: the API servers' URLs, comma-separated");
  for (const server of e.BERTH_AGENT_SERVERS) {
    const url = URL.parse(server);
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password)
      throw ConfigError.invalid(
        `BERTH_AGENT_SERVERS: '${server}' is not an http(s) URL without credentials (e.g. https://10.0.0.5:7300)`,
      );
    // The agent token crosses to each server, and whoever answers there drives this node's engine: over
    // plain http anyone on the path could read the one or pose as the other. Loopback, or when the operator
    // says the network is its own (a private link, a TLS tunnel in front), by BERTH_AGENT_ALLOW_HTTP.
    if (url.protocol === "http:" && !LOOPBACK.has(url.hostname) && e.BERTH_AGENT_ALLOW_HTTP !== "true")
      throw ConfigError.invalid(
        `BERTH_AGENT_SERVERS: '${server}' is plain http to another host: use https, or set BERTH_AGENT_ALLOW_HTTP=true on a network of your own`,
      );
  }
  const dockerHost = e.DOCKER_HOST?.startsWith("unix://") ? e.DOCKER_HOST.slice(7) : undefined;
  return Object.freeze({
    servers: Object.freeze([...e.BERTH_AGENT_SERVERS]),
    agentToken: e.BERTH_AGENT_TOKEN,
    dockerSocket: e.BERTH_DOCKER_SOCKET ?? dockerHost ?? "/var/run/docker.sock",
    logLevel: e.BERTH_LOG_LEVEL,
    mountRoot: e.BERTH_AGENT_MOUNT_ROOT,
    allowHttp: e.BERTH_AGENT_ALLOW_HTTP === "true",
    ...channelConfig(e),
  });
}
