import { EventEmitter } from "node:events";
import Fastify from "fastify";
import { UserActivityLogger } from "../activity/user-activity-logger.ts";
import { DASHBOARD_DIR, registerDashboardRoutes } from "../api/dashboard-routes.ts";
import { registerHttpRoutes } from "../api/http-routes.ts";
import { registerMetricsRoute } from "../api/metrics-route.ts";
import { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import type { ChannelPort } from "../channel/channel-port.ts";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import type { Config } from "../config/config.ts";
import { effectiveLimits } from "../containers/effective-limits.ts";
import { EngineReturnRestarter } from "../containers/engine-return-restarter.ts";
import { ImageCatalog } from "../containers/image-catalog.ts";
import { InterruptedOperations } from "../containers/interrupted-operation.ts";
import { RestartSupervisor } from "../containers/restart-supervisor.ts";
import { RuntimeOffer } from "../containers/runtime-offer.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import { DockerodeClient } from "../docker/dockerode-client.ts";
import { EngineMonitor, type EngineMonitorEvents } from "../docker/engine-monitor.ts";
import type { RedisFanOut } from "../fan-out/redis-fan-out.ts";
import { BerthMetrics } from "../metrics/berth-metrics.ts";
import { observeBerth } from "../metrics/observe-berth.ts";
import { ChannelTally } from "../monitoring/channel-tally.ts";
import { EngineEventWatcher } from "../monitoring/engine-event-watcher.ts";
import { HealthMonitor } from "../monitoring/health-monitor.ts";
import { EgressFirewall } from "../network/egress-firewall.ts";
import { egressPolicy } from "../network/egress-policy.ts";
import { ExecFileIptables } from "../network/iptables.ts";
import { AgentLeaseRenewer } from "../node-agents/agent-lease-renewer.ts";
import { AgentRegistry } from "../node-agents/agent-registry.ts";
import { BERTH_VERSION } from "../version.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import type { BerthOptions } from "./berth-options.ts";
import type { BerthParts } from "./berth-parts.ts";
import { buildAdmission } from "./build-admission.ts";
import { buildBackground } from "./build-background.ts";
import { buildCluster } from "./build-cluster.ts";
import { buildLifecycle } from "./build-lifecycle.ts";
import { buildSampling } from "./build-sampling.ts";
import { buildSocketApi } from "./build-socket-api.ts";
import { ClusterSteward } from "./cluster-steward.ts";
import { countListeners } from "./count-listeners.ts";
import { DisposalStack } from "./disposal-stack.ts";
import { type BerthBase, openBase } from "./open-base.ts";
import { openFanOut } from "./open-fan-out.ts";
import { openTokens } from "./open-tokens.ts";
import { RunningFollower } from "./running-follower.ts";
import { StoreStateFollower } from "./store-state-follower.ts";

/**
 * Builds every part of berth, in order, each pushed on the disposal stack the
 * moment it exists — so that a step that fails (a tokens file refused after
 * the store opened, …) disposes of exactly what was built, newest first, and
 * rethrows. The order is the reverse of shutdown's: what takes work in (the
 * Socket.IO server, the engine event stream) is built last and closed first;
 * what records the outcome of work under way (the activity feed, health,
 * the store) is built first and closed after the operations drained.
 * Constructors do no I/O: that happens here, in `openBase`/`openTokens`, and in
 * `Berth.start()`.
 *
 * A little over 300 lines: the one composition root, whose order is the point;
 * each part with ideas of its own is built in a build-*.ts beside it.
 */
export async function composeBerth(config: Config, options: BerthOptions): Promise<BerthParts> {
  const stack = new DisposalStack();
  let base: BerthBase | undefined;
  try {
    base = await openBase(config, options, stack);
    const fanOut = await openFanOut(config, base.log, stack);
    return build(config, options, base, stack, fanOut);
  } catch (err) {
    // berth does not start: what was built goes, and the error that stopped it is the one to tell.
    await stack
      .dispose()
      .catch((failure: unknown) =>
        base?.log.error({ err: failure }, "could not dispose of what was built before the failure"),
      );
    throw err;
  }
}

function build(
  config: Config,
  options: BerthOptions,
  base: BerthBase,
  stack: DisposalStack,
  fanOut: RedisFanOut | undefined,
): BerthParts {
  const { secrets, log, store, instanceId } = base;
  const repo = store.containers;
  const tokens = openTokens(config, options, base);
  // The gauges read their sources at scrape time, once berth listens: the store's count, the connections open then.
  const metrics = config.metrics.enabled
    ? new BerthMetrics({
        perContainer: config.metrics.perContainer,
        version: BERTH_VERSION,
        sources: {
          containers: () => repo.tally(),
          connectedClients: () => sockets.io.of("/").sockets.size,
          connectedWorkloads: () => channel.connectedCount,
          listeners: () => countListeners(emitters),
        },
      })
    : undefined;
  // Cluster mode only: node agents connect with BERTH_AGENT_TOKEN; nothing in single-host mode reaches one.
  const agents = config.agentToken === undefined ? undefined : new AgentRegistry();
  // The agents' leases, renewed while this server's store answers (one row read by its key, every second):
  // an agent no server vouches for fences itself (docs/cluster.md, "Fencing"). Started by Berth.start().
  const agentLeases =
    agents &&
    new AgentLeaseRenewer({ registry: agents, storeAnswers: () => store.meta.get("agent-lease-check"), log });
  if (agentLeases) stack.defer("agent leases", () => agentLeases.close());
  const cluster =
    config.cluster && agents
      ? buildCluster(
          config,
          { store, registry: agents, instanceId, log, states: base.containerChanges },
          stack,
        )
      : undefined;
  const engine = new EngineMonitor(log);
  // In cluster mode "the engine" is every node's, through its agent: down while no agent at all is connected.
  const docker: DockerClient =
    cluster?.docker ??
    new DockerodeClient({
      socketPath: config.dockerSocket,
      log,
      gate: engine,
      ...(metrics ? { onCall: (op: string, err: unknown) => metrics.engineCall(op, err) } : {}),
    });
  engine.attach(docker);
  const channelTally = new ChannelTally(metrics?.channel);
  // In cluster mode the workloads' sockets are on their nodes, and the channel code runs in each node's agent.
  const channel: ChannelPort & EventEmitter =
    cluster?.channels(config, log) ??
    new SocketCommunicationHandler({
      runDir: config.runDir,
      maxFrameBytes: config.maxFrameBytes,
      maxRequestTimeoutMs: config.maxRequestTimeoutMs,
      messageRate: config.channelMessageRate,
      messageBytesRate: config.channelMessageBytesRate,
      log,
      // The tally adds up each workload's channel traffic for the pressure reports, and passes it on to the metrics.
      observer: channelTally,
    });
  // One 'bad_hello' listener per container waiting to become ready; hundreds may wait at once.
  channel.setMaxListeners(0);
  stack.defer("workload channels", () => channel.closeAll());

  const handshakes = new HandshakeLimiter({
    perMinute: config.handshakesPerMinute,
    onLimit: (address, state, refused) => {
      if (state === "limited") log.warn({ address }, "refusing handshakes: too many from this address");
      else log.info({ address, refused }, "handshakes from this address are let in again");
    },
  });
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  stack.defer("HTTP server", () => app.close());
  registerHttpRoutes(app, engine);
  registerDashboardRoutes(app, options.dashboardDir ?? DASHBOARD_DIR);
  // Without metrics there is no route at all: /metrics answers 404 like any unknown path.
  if (metrics)
    registerMetricsRoute(app, { metrics, tokens, public: config.metrics.public, limiter: handshakes });

  const egress = new EgressFirewall({
    iptables: options.iptables ?? new ExecFileIptables(),
    policy: egressPolicy(config.egressAllow, config.egressBlock),
    instanceId,
    log,
  });
  const { quotas, engineQueue, admission, rates, quotaLimits } = buildAdmission(
    config,
    { store, tokens, log },
    stack,
  );
  const files = cluster?.files ?? new LocalWorkloadFiles(new ContainerPaths(config.dataDir, config.runDir));
  const images = new ImageCatalog(docker, log);
  const runtimeOffer = new RuntimeOffer(images, config.runtimeImages);

  // What records the outcome of work comes before the work: it is closed after the operations drained.
  const activity = new UserActivityLogger(store.activity, secrets, log, {
    maxEntriesPerOwner: config.activityMaxEntries,
    maxAgeMs: config.activityMaxAgeMs,
  });
  stack.defer("activity feed", () => activity.close());
  const health = new HealthMonitor({ repo, channel, log });
  // The second close, after the operations drained: they untracked what they stopped, and that health is being written.
  stack.defer("health: writes", () => health.close());
  const running = new RunningFollower({ repo, health, defaults: config, log });
  stack.defer("status changes being followed", () => running.settled());
  const sampling = buildSampling(
    config,
    {
      docker,
      // In cluster mode a workload's cgroup files are its node's: its agent samples them.
      elsewhere: cluster && ((id, handle, fresh) => cluster.usage.sample(id, handle, fresh)),
      repo,
      channelTally,
      nanoCpusOf: (id) => running.nanoCpusOf(id),
      log,
    },
    stack,
  );
  const { pressure, sampler, history } = sampling;

  const { manager, imageChecker, updater } = buildLifecycle(config, {
    docker,
    images,
    store,
    channel,
    secrets,
    log,
    instanceId,
    files,
    admission,
    egress,
    placement: cluster?.placement,
    locks: cluster?.locks,
    changes: base.containerChanges,
    checks: cluster?.throwaways,
    networks: cluster?.networks,
  });
  cluster?.moveWith((id, lostNode) => manager.relocate(id, lostNode));
  const unobserve = metrics && observeBerth(metrics, { manager, activity });
  if (unobserve) stack.defer("metrics observation", unobserve);
  stack.defer("operations under way", () => manager.drain());
  stack.defer("health checks", () => health.close());
  // Before the restart supervisor: the exits it defers are those this one holds.
  const bringBack = new EngineReturnRestarter({
    // Cluster mode has no one engine to go away: "the engine" is every node's, down here when no agent is
    // connected to this server, which stops no workload. A node that is lost has its workloads moved
    // (re-placement); one whose engine restarted has their exits answered by their restart policies.
    engine: cluster ? new EventEmitter<EngineMonitorEvents>() : engine,
    manager,
    records: () => repo.all(),
    log,
    probe: () => engine.check(),
  });
  stack.defer("engine-return restarts", () => bringBack.close());
  const restarts = new RestartSupervisor(
    manager,
    {
      maxRestarts: config.maxRestarts,
      resetAfterMs: config.restartResetMs,
      baseDelayMs: config.restartBaseDelayMs,
      maxDelayMs: 60_000,
    },
    log,
    bringBack,
  );
  stack.defer("restart timers", () => restarts.close());
  const events = new EngineEventWatcher({
    docker,
    manager,
    repo,
    instanceId,
    log,
    onDockerHealth: (id, status) => health.dockerHealth(id, status),
    ...(metrics ? { onReconnected: () => metrics.eventStreamReconnected() } : {}),
  });
  stack.defer("engine event stream", () => events.close());

  /** What a crash cut, and what the reconciliation and the update recovery did about it; the feed tells it. */
  const interrupted = new InterruptedOperations();
  // A held workload that ended on its own: its restart policy answers it, not the bring-back.
  bringBack.on("handedBack", ({ info, oomKilled }) => restarts.takeExit(info, oomKilled));
  manager.on("statusChanged", ({ info }) => {
    if (info.state !== "running") pressure.forget(info.id);
  });
  manager.on("statusChanged", ({ info }) => sampler.invalidate(info.id));
  // The history follows what this server changed (each server samples for its own clients) at once, and with
  // several servers on one store, what the others changed too, by the store's notices.
  manager.on("statusChanged", ({ info }) => history.follow(info));
  if (base.containerChanges) {
    const states = new StoreStateFollower({
      notices: base.containerChanges,
      repo,
      follow: (info) => {
        sampler.invalidate(info.id);
        history.follow(info);
      },
      log,
    });
    stack.defer("store state notices being followed", () => states.close());
  }
  // Cluster mode: the health of running workloads is watched by the leading server, by the store's notices
  // (ClusterSteward below), whichever server changed their state.
  if (!cluster) manager.on("statusChanged", ({ info }) => running.follow(info));
  // The manager answers the health written last, also for a record it read before (ContainerManager.info).
  health.on("change", ({ id, health: now }) => manager.noteHealth(id, now));
  activity.follow({
    manager,
    interrupted,
    restarts,
    bringBack,
    // Cluster mode: "the engine" down here means no agent is connected to this server — not news for
    // every owner, from every server; a node lost is told per workload (container.host_lost).
    engine: cluster ? new EventEmitter<EngineMonitorEvents>() : engine,
    health,
    pressure,
    memoryLimitOf: async (id) => {
      const record = await repo.get(id);
      return record && effectiveLimits(record.spec, config).memoryBytes;
    },
  });

  const sockets = buildSocketApi(config, {
    app,
    channel,
    updater,
    docker,
    sampler,
    history,
    activity,
    health,
    tokens,
    manager,
    secrets,
    log,
    rates,
    handshakes,
    imageChecker,
    quotas,
    quotaLimits,
    runtimeOffer,
    agents,
    fanOut,
  });
  stack.defer("Socket.IO server", () => sockets.close());
  // Checks under way end, and remove their containers and directories, before the engine client goes —
  // in cluster mode the node agents' links, which the Socket.IO server's close ends: so before it.
  stack.defer("image checks", () => imageChecker.close());

  // The background services: each started by Berth.start(), and stopped first at close.
  const background = buildBackground(config, options, {
    docker,
    store,
    manager,
    channel,
    files,
    instanceId,
    log,
    interrupted,
    egress,
    pressure,
    history,
    restarts,
    orphanLeftovers: cluster?.orphanLeftovers,
  });
  if (cluster) {
    const steward = new ClusterSteward({
      reconciliation: background.reconciliation,
      events,
      restarts,
      health,
      forgetHealth: () => manager.forgetHealth(),
      running,
      repo,
      states: cluster.states,
      log,
      ...(options.stewardPassMs !== undefined ? { passEveryMs: options.stewardPassMs } : {}),
    });
    // One server answers exits: the leader (a deposed one leaves the store's word to the next).
    restarts.actOnlyWhile(() => steward.leading);
    cluster.whileLeading((term) => steward.lead(term));
    // First of all that it drives: a shutdown stops the lead before the health watch, the restarts and the
    // event stream close, and waits for a pass under way.
    stack.defer("cluster steward", async () => {
      await steward.close();
      // And the lead itself, at once: another server leads from its next try (2 s), not after this
      // server's whole shutdown.
      await cluster.resign();
    });
  }
  const emitters = [manager, activity, channel, health, restarts, bringBack, tokens, engine, pressure];
  return {
    ...base,
    ...sampling,
    config,
    stack,
    tokens,
    metrics,
    engine,
    channel,
    app,
    sockets,
    egress,
    quotas,
    engineQueue,
    quotaLimits,
    images,
    runtimeOffer,
    activity,
    health,
    running,
    manager,
    updater,
    restarts,
    bringBack,
    events,
    agents,
    agentLeases,
    cluster,
    ...background,
    emitters,
  };
}
