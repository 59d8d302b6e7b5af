import type { EventEmitter } from "node:events";
import type { FastifyInstance } from "fastify";
import type { QuotaLimits } from "#protocol";
import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { FairQueue } from "../admission/fair-queue.ts";
import type { QuotaLedger } from "../admission/quota-ledger.ts";
import type { SocketIOEventHandler } from "../api/socket-io-event-handler.ts";
import type { TokenStore } from "../auth/token-store.ts";
import type { ChannelPort } from "../channel/channel-port.ts";
import type { Config } from "../config/config.ts";
import type { EngineReturnRestarter } from "../containers/engine-return-restarter.ts";
import type { ImageCatalog } from "../containers/image-catalog.ts";
import type { RestartSupervisor } from "../containers/restart-supervisor.ts";
import type { RuntimeOffer } from "../containers/runtime-offer.ts";
import type { EngineMonitor } from "../docker/engine-monitor.ts";
import type { BerthMetrics } from "../metrics/berth-metrics.ts";
import type { EngineEventWatcher } from "../monitoring/engine-event-watcher.ts";
import type { HealthMonitor } from "../monitoring/health-monitor.ts";
import type { EgressFirewall } from "../network/egress-firewall.ts";
import type { AgentLeaseRenewer } from "../node-agents/agent-lease-renewer.ts";
import type { AgentRegistry } from "../node-agents/agent-registry.ts";
import type { BackgroundParts } from "./build-background.ts";
import type { ClusterParts } from "./build-cluster.ts";
import type { LifecycleParts } from "./build-lifecycle.ts";
import type { SamplingParts } from "./build-sampling.ts";
import type { DisposalStack } from "./disposal-stack.ts";
import type { BerthBase } from "./open-base.ts";
import type { RunningFollower } from "./running-follower.ts";

/** Everything berth is made of, built by `composeBerth`; `Berth` runs it. */
export interface BerthParts
  extends BerthBase,
    SamplingParts,
    BackgroundParts,
    Omit<LifecycleParts, "imageChecker"> {
  config: Config;
  /** What close() runs: every part below, newest first. */
  stack: DisposalStack;
  tokens: TokenStore;
  metrics: BerthMetrics | undefined;
  engine: EngineMonitor;
  channel: ChannelPort;
  app: FastifyInstance;
  sockets: SocketIOEventHandler;
  egress: EgressFirewall;
  quotas: QuotaLedger;
  engineQueue: FairQueue;
  quotaLimits: (owner: string) => QuotaLimits;
  images: ImageCatalog;
  runtimeOffer: RuntimeOffer;
  activity: UserActivityLogger;
  health: HealthMonitor;
  running: RunningFollower;
  restarts: RestartSupervisor;
  bringBack: EngineReturnRestarter;
  events: EngineEventWatcher;
  /** The node agents connected now (cluster mode, BERTH_AGENT_TOKEN); undefined in single-host mode. */
  agents: AgentRegistry | undefined;
  /** Renews the leases of the agents connected here while the store answers; with `agents` only. */
  agentLeases: AgentLeaseRenewer | undefined;
  /** Cluster mode's parts (BERTH_CLUSTER); undefined in single-host mode. */
  cluster: ClusterParts | undefined;
  /** berth's own emitters, whose listeners `debugCounts()` adds up. */
  emitters: readonly EventEmitter[];
}
