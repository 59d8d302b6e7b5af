import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import { type AgentConfig, loadAgentConfig } from "../config/agent-config.ts";
import { ConfigError } from "../config/config-error.ts";
import { DockerodeClient } from "../docker/dockerode-client.ts";
import { type EngineIdentity, readEngineIdentity } from "../docker/engine-identity.ts";
import { fatalReport } from "../logging/fatal-report.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger, type SystemLogger } from "../logging/system-logger.ts";
import { EgressFirewall } from "../network/egress-firewall.ts";
import { egressPolicy } from "../network/egress-policy.ts";
import { ExecFileIptables } from "../network/iptables.ts";
import { RetryPolicy } from "../util/retry-policy.ts";
import { BERTH_VERSION } from "../version.ts";
import { agentRunDir } from "./agent-run-dir.ts";
import { AgentWorkloadFiles } from "./agent-workload-files.ts";
import { NodeAgent } from "./node-agent.ts";
import { NodeNetworks } from "./node-networks.ts";
import { NodeUsage } from "./node-usage.ts";
import { WorkloadsOnlyEngine } from "./workloads-only-engine.ts";

/**
 * The node agent's composition root (`npm run agent`): read its config, learn
 * which node its engine is, hold its node's workload channels, dial every API
 * server, and on SIGTERM or SIGINT disconnect, close the channels and exit. The node's containers run on while it is down.
 */
const secrets = new SecretRegistry();

function die(msg: string): (err: unknown) => void {
  return (err) => {
    try {
      process.stderr.write(fatalReport(err, msg, secrets.system));
    } finally {
      process.exit(1);
    }
  };
}
process.on("uncaughtException", die("berth agent crashed: uncaught exception"));
process.on("unhandledRejection", die("berth agent crashed: unhandled rejection"));

/** The engine may start after the agent (both started with the host): its identity is asked again until it answers. */
async function identityOf(
  config: AgentConfig,
  log: SystemLogger,
  stopping: AbortSignal,
): Promise<EngineIdentity> {
  const policy = new RetryPolicy({
    maxAttempts: Number.MAX_SAFE_INTEGER,
    maxTotalMs: Number.MAX_SAFE_INTEGER,
    baseDelayMs: 500,
    maxDelayMs: 10_000,
    isRetryable: () => !stopping.aborted,
    onRetry: ({ err, delayMs }) =>
      log.warn(
        { err, delayMs, socket: config.dockerSocket },
        "could not read this node's engine; trying again",
      ),
  });
  return policy.run(() => readEngineIdentity(config.dockerSocket), stopping);
}

async function main(): Promise<void> {
  let config: AgentConfig;
  try {
    config = loadAgentConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`berth agent: ${err.message}\n`);
    process.exit(2);
  }
  // The credential is hidden from every line the agent logs, in every form a token is.
  secrets.setServerSecrets([config.credential]);
  const log = createSystemLogger({
    level: config.logLevel,
    redactor: secrets.system,
    pretty: process.stdout.isTTY === true,
  }).child({ component: "agent" });
  const stopping = new AbortController();
  let agent: NodeAgent | undefined;
  let usage: NodeUsage | undefined;
  let networks: NodeNetworks | undefined;
  // The workload channels of this node: berth's own channel code, with sockets under the mount root
  // (`<root>/run/<id>/berth.sock`), where WorkloadsOnlyEngine lets a workload mount its own directory.
  const channels = new SocketCommunicationHandler({
    runDir: agentRunDir(config.mountRoot),
    maxFrameBytes: config.maxFrameBytes,
    maxRequestTimeoutMs: config.maxRequestTimeoutMs,
    messageRate: config.channelMessageRate,
    messageBytesRate: config.channelMessageBytesRate,
    log,
  });
  const stop = (signal: string) => {
    log.info({ signal }, "received signal");
    stopping.abort();
    agent?.close();
    usage?.close();
    void networks?.close();
    // The sockets go with the agent (the next one makes them again); a hung close does not hold the exit.
    const exit = () => {
      log.flush();
      process.exit(0);
    };
    setTimeout(exit, 2_000).unref();
    channels.closeAll().then(exit, exit);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  const identity = await identityOf(config, log, stopping.signal);
  const engine = new DockerodeClient({ socketPath: config.dockerSocket, log });
  // berth's workloads only, mounting only under the agent's own root, whatever an API server asks.
  const docker = new WorkloadsOnlyEngine(engine, { mountRoot: config.mountRoot });
  // This node's owner networks, filtered by this node's firewall with this node's policy. The rules carry
  // a tag of the agent's own, so that an API server of single-host berth on the same host (its own
  // instance's tag) never sweeps them, nor they its.
  const firewall = new EgressFirewall({
    iptables: new ExecFileIptables(),
    policy: egressPolicy(config.egressAllow, config.egressBlock),
    instanceId: "node-agent",
    log,
  });
  networks = new NodeNetworks({ docker: engine, firewall, log, recheckMs: config.egressRecheckMs });
  networks.start();
  // Said once at start, as a single host says it: whether this node takes outbound workloads; and said
  // to the API servers in the hello, which place outbound workloads on nodes that can filter them.
  const egressFilter = await networks.report();
  // This node's workloads' usage, from its own cgroup files: an API server's host could not read them.
  usage = new NodeUsage({ docker, log });
  agent = new NodeAgent({
    servers: config.servers,
    credential: config.credential,
    ca: config.ca,
    identity: { ...identity, version: BERTH_VERSION, egressFilter },
    docker,
    files: new AgentWorkloadFiles(config.mountRoot),
    channels,
    usage,
    fencing: { leaseMs: config.leaseMs, graceMs: config.fenceGraceMs, stopTimeoutSec: config.stopTimeoutSec },
    networks,
    log,
  });
  if (config.allowHttp)
    log.warn(
      { servers: config.servers },
      "BERTH_AGENT_ALLOW_HTTP: this node's credential crosses to the API servers unencrypted; keep this network your own",
    );
  log.info(
    {
      node: identity.nodeId,
      hostname: identity.hostname,
      servers: config.servers,
      pinnedCa: config.ca !== undefined,
      leaseMs: config.leaseMs,
      fenceGraceMs: config.fenceGraceMs,
    },
    "node agent starting",
  );
  agent.start();
}

await main().catch(die("berth agent could not start"));
