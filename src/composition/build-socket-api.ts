import type { FastifyInstance } from "fastify";
import type { QuotaLimits } from "#protocol";
import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { QuotaLedger } from "../admission/quota-ledger.ts";
import type { RateGate } from "../admission/rate-limiter.ts";
import type { FanOut } from "../api/cluster-sessions.ts";
import { SocketIOEventHandler } from "../api/socket-io-event-handler.ts";
import type { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import type { TokenStore } from "../auth/token-store.ts";
import type { ChannelPort } from "../channel/channel-port.ts";
import type { Config } from "../config/config.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { RuntimeOffer } from "../containers/runtime-offer.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { ImageChecker } from "../images/image-checker.ts";
import type { SecretRegistry } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { ContainerLogs } from "../monitoring/container-logs.ts";
import { ContainerTelemetry } from "../monitoring/container-telemetry.ts";
import type { HealthMonitor } from "../monitoring/health-monitor.ts";
import type { StatsHistory } from "../monitoring/stats-history.ts";
import type { StatsSampler } from "../monitoring/stats-sampler.ts";
import type { AgentRegistry } from "../node-agents/agent-registry.ts";
import type { CodeUpdater } from "../updates/code-updater.ts";
import { BERTH_VERSION } from "../version.ts";

export interface SocketApiDeps {
  app: FastifyInstance;
  channel: ChannelPort;
  updater: CodeUpdater;
  docker: DockerClient;
  sampler: StatsSampler;
  history: StatsHistory;
  activity: UserActivityLogger;
  health: HealthMonitor;
  tokens: TokenStore;
  manager: ContainerManager;
  secrets: SecretRegistry;
  log: SystemLogger;
  rates: RateGate;
  handshakes: HandshakeLimiter;
  imageChecker: ImageChecker;
  quotas: QuotaLedger;
  quotaLimits: (owner: string) => QuotaLimits;
  runtimeOffer: RuntimeOffer;
  /** Cluster mode (BERTH_AGENT_TOKEN): where the node agents that connect are kept. */
  agents: AgentRegistry | undefined;
  /** With BERTH_REDIS_URL: the adapter that fans pushes and sessions out to the other API servers, and those sessions. */
  fanOut?: FanOut | undefined;
}

/**
 * The Socket.IO API on the HTTP server's socket (nobody can reach it before
 * `Berth.start()` listens), over the services: the handlers see the engine
 * only through ContainerTelemetry, and the workloads only through the channel hub.
 */
export function buildSocketApi(config: Config, deps: SocketApiDeps): SocketIOEventHandler {
  const { docker, secrets } = deps;
  return new SocketIOEventHandler({
    httpServer: deps.app.server,
    channel: deps.channel,
    updater: deps.updater,
    telemetry: new ContainerTelemetry({
      containers: deps.manager,
      docker,
      sampler: deps.sampler,
      history: deps.history,
      logs: new ContainerLogs(docker, secrets),
    }),
    activity: deps.activity,
    health: deps.health,
    auth: deps.tokens,
    manager: deps.manager,
    redactor: secrets,
    log: deps.log,
    maxPayloadBytes: config.maxPayloadBytes,
    rates: deps.rates,
    maxConnectionsPerOwner: config.maxConnectionsPerOwner,
    handshakes: deps.handshakes,
    fanOut: deps.fanOut,
    images: deps.imageChecker,
    serverInfo: {
      version: BERTH_VERSION,
      config,
      usage: (owner) => deps.quotas.usage(owner),
      quotaLimits: deps.quotaLimits,
      runtimes: () => deps.runtimeOffer.runtimes(),
    },
    limits: {
      bufferBytes: config.clientBufferBytes,
      maxBufferBytes: config.clientBufferMaxBytes,
      graceMs: config.clientBufferGraceMs,
      maxRequestsInFlight: config.maxRequestsInFlight,
      maxSubscriptions: config.maxSubscriptions,
    },
    agents:
      config.agentToken && deps.agents
        ? {
            masterKey: config.agentToken,
            registry: deps.agents,
            channelLanes: config.agentChannelLanes,
            // Each node's credential, as the master key it is derived from: in no line of the system log.
            onCredential: (credential: string) => secrets.addServerSecret(credential),
          }
        : undefined,
  });
}
