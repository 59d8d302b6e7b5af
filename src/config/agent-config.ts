import { z } from "zod";
import { AGENT_CREDENTIAL } from "../agent-link/agent-credential.ts";
import type { Ipv4Cidr } from "../network/ipv4-cidr.ts";
import { readCaFile, readCredentialFile } from "./agent-credential-file.ts";
import { ConfigError } from "./config-error.ts";
import { envInt, envList } from "./env-values.ts";
import { type ChannelConfig, ChannelEnv, channelConfig } from "./sections/channel-config.ts";
import { ClusterEnv } from "./sections/cluster-config.ts";
import { NetworkEnv, networkConfig } from "./sections/network-config.ts";
import { ServerEnv } from "./sections/server-config.ts";
import { WorkloadEnv } from "./sections/workload-config.ts";

/**
 * The node agent's configuration (`npm run agent`, src/agent/main.ts): a
 * program of its own beside the API server, with far fewer settings — where
 * the API servers are, the credential of its own node it proves itself with
 * (never the master key, BERTH_AGENT_TOKEN, which stays on the API servers),
 * the CA it trusts for them, and its node's engine.
 */
const AgentEnvSchema = z.object({
  BERTH_AGENT_SERVERS: envList,
  // Checked in loadAgentConfig, whose messages never quote them.
  BERTH_AGENT_TOKEN: z.string().optional(),
  BERTH_AGENT_CREDENTIAL: z.string().optional(),
  BERTH_AGENT_CREDENTIAL_FILE: z.string().optional(),
  BERTH_AGENT_CA_FILE: z.string().optional(),
  BERTH_DOCKER_SOCKET: ServerEnv.BERTH_DOCKER_SOCKET,
  DOCKER_HOST: ServerEnv.DOCKER_HOST,
  BERTH_LOG_LEVEL: ServerEnv.BERTH_LOG_LEVEL,
  BERTH_AGENT_ALLOW_HTTP: z.enum(["true", "false"]).default("false"),
  BERTH_AGENT_MOUNT_ROOT: ClusterEnv.BERTH_AGENT_MOUNT_ROOT,
  // Shorter than Swarm's failure detection (a lost node is called down 10.9–15 s after the cut here): the
  // lease runs from the last renewal (at most a second before the cut), so a cut-off node's channels are
  // closed before its workloads can be placed anew elsewhere. At least two renewal intervals (1 s each).
  BERTH_AGENT_LEASE_MS: envInt(8_000, 2_000, 600_000),
  // A minute more before the workloads are stopped: a PostgreSQL restart or a short cut costs channels
  // that reconnect by themselves, not workloads that berth must decide to start again.
  BERTH_AGENT_FENCE_GRACE_MS: envInt(60_000, 0, 3_600_000),
  BERTH_STOP_TIMEOUT_SEC: WorkloadEnv.BERTH_STOP_TIMEOUT_SEC,
  // The workload channels of this node run in the agent, with the same limits as on a single host.
  ...ChannelEnv,
  // The egress filter of this node's owner networks is the agent's, with the node's own policy.
  BERTH_EGRESS_ALLOW: NetworkEnv.BERTH_EGRESS_ALLOW,
  BERTH_EGRESS_BLOCK: NetworkEnv.BERTH_EGRESS_BLOCK,
  // How often the node's owner networks are re-checked (rules put back after a firewall reload).
  BERTH_AGENT_EGRESS_RECHECK_MS: envInt(30_000, 500, 3_600_000),
});

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export interface AgentConfig extends ChannelConfig {
  /** BERTH_AGENT_SERVERS: every API server's base URL (http or https), each dialled. */
  readonly servers: readonly string[];
  /** Its own node's credential (BERTH_AGENT_CREDENTIAL, or the file BERTH_AGENT_CREDENTIAL_FILE names). */
  readonly credential: string;
  /** BERTH_AGENT_CA_FILE's PEM: the only CAs trusted for the API servers' certificates; undefined: Node's own. */
  readonly ca: string | undefined;
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
  /** BERTH_AGENT_LEASE_MS: no renewal from any API server for this long → the node's channels are fenced. */
  readonly leaseMs: number;
  /** BERTH_AGENT_FENCE_GRACE_MS: still none this much later → the node's workloads are stopped. */
  readonly fenceGraceMs: number;
  /** BERTH_STOP_TIMEOUT_SEC: the grace a fenced workload's stop gives it. */
  readonly stopTimeoutSec: number;
  /**
   * BERTH_EGRESS_ALLOW / BERTH_EGRESS_BLOCK of this node: what its outbound workloads may reach despite the
   * blocks, and what they may not on top of the defaults. The node's own, never an API server's word.
   */
  readonly egressAllow: readonly Ipv4Cidr[];
  readonly egressBlock: readonly Ipv4Cidr[];
  /** BERTH_AGENT_EGRESS_RECHECK_MS: how often the node's owner networks' filter is checked and put back. */
  readonly egressRecheckMs: number;
}

export function loadAgentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const parsed = AgentEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const credential = credentialOf(e);
  if (e.BERTH_AGENT_SERVERS.length === 0)
    throw ConfigError.invalid("BERTH_AGENT_SERVERS is required: the API servers' URLs, comma-separated");
  for (const server of e.BERTH_AGENT_SERVERS) {
    const url = URL.parse(server);
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password)
      throw ConfigError.invalid(
        `BERTH_AGENT_SERVERS: '${server}' is not an http(s) URL without credentials (e.g. https://10.0.0.5:7300)`,
      );
    // This node's credential crosses to each server, and whoever answers there drives this node's engine: over
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
    credential,
    ca: e.BERTH_AGENT_CA_FILE ? readCaFile(e.BERTH_AGENT_CA_FILE) : undefined,
    dockerSocket: e.BERTH_DOCKER_SOCKET ?? dockerHost ?? "/var/run/docker.sock",
    logLevel: e.BERTH_LOG_LEVEL,
    mountRoot: e.BERTH_AGENT_MOUNT_ROOT,
    allowHttp: e.BERTH_AGENT_ALLOW_HTTP === "true",
    leaseMs: e.BERTH_AGENT_LEASE_MS,
    fenceGraceMs: e.BERTH_AGENT_FENCE_GRACE_MS,
    stopTimeoutSec: e.BERTH_STOP_TIMEOUT_SEC,
    ...channelConfig(e),
    ...egressOf(e),
    egressRecheckMs: e.BERTH_AGENT_EGRESS_RECHECK_MS,
  });
}

function egressOf(e: z.output<typeof AgentEnvSchema>): Pick<AgentConfig, "egressAllow" | "egressBlock"> {
  const { egressAllow, egressBlock } = networkConfig({ ...e, BERTH_ALLOW_NETWORK: false });
  return { egressAllow, egressBlock };
}

/** The node's credential, from the variable or the file (not both), checked for its shape. */
function credentialOf(e: z.output<typeof AgentEnvSchema>): string {
  // The master key opens every node's credential: it stays on the API servers, never on a node.
  if (e.BERTH_AGENT_TOKEN)
    throw ConfigError.invalid(
      "BERTH_AGENT_TOKEN is set: a node agent must not hold the master key. Give it its own node's credential instead (`npm run agent:credential -- NODE_ID` on an API server's host; BERTH_AGENT_CREDENTIAL_FILE or BERTH_AGENT_CREDENTIAL), and unset BERTH_AGENT_TOKEN here",
    );
  const fromVariable = e.BERTH_AGENT_CREDENTIAL || undefined;
  const file = e.BERTH_AGENT_CREDENTIAL_FILE || undefined;
  if (fromVariable !== undefined && file !== undefined)
    throw ConfigError.invalid("set BERTH_AGENT_CREDENTIAL or BERTH_AGENT_CREDENTIAL_FILE, not both");
  const credential = file === undefined ? fromVariable : readCredentialFile(file);
  if (credential === undefined)
    throw ConfigError.invalid(
      "BERTH_AGENT_CREDENTIAL_FILE (or BERTH_AGENT_CREDENTIAL) is required: this node's credential, from `npm run agent:credential -- NODE_ID`",
    );
  if (!AGENT_CREDENTIAL.test(credential))
    throw ConfigError.invalid(
      `${file === undefined ? "BERTH_AGENT_CREDENTIAL" : `BERTH_AGENT_CREDENTIAL_FILE (${file})`} is not a node agent's credential (43 characters of base64url, from \`npm run agent:credential -- NODE_ID\`)`,
    );
  return credential;
}
