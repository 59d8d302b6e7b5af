import type { UserActivityLogger } from "./activity/user-activity-logger.ts";
import type { FairQueue } from "./admission/fair-queue.ts";
import type { QuotaLedger } from "./admission/quota-ledger.ts";
import type { TokenStore } from "./auth/token-store.ts";
import { TokensFileError } from "./auth/tokens-file.ts";
import { TokensFileWatcher } from "./auth/tokens-file-watcher.ts";
import type { ChannelPort } from "./channel/channel-port.ts";
import type { BerthOptions } from "./composition/berth-options.ts";
import type { BerthParts } from "./composition/berth-parts.ts";
import { composeBerth } from "./composition/compose-berth.ts";
import { countListeners } from "./composition/count-listeners.ts";
import type { Config } from "./config/config.ts";
import type { ContainerManager } from "./containers/container-manager.ts";
import { CutByCrash } from "./containers/cut-by-crash.ts";
import type { EngineReturnRestarter } from "./containers/engine-return-restarter.ts";
import type { RestartSupervisor } from "./containers/restart-supervisor.ts";
import type { EngineMonitor } from "./docker/engine-monitor.ts";
import { ShuttingDownError } from "./errors/errors.ts";
import type { SecretRegistry } from "./logging/secret-registry.ts";
import type { SystemLogger } from "./logging/system-logger.ts";
import type { BerthMetrics } from "./metrics/berth-metrics.ts";
import type { HealthMonitor } from "./monitoring/health-monitor.ts";
import { reportEgressFilter } from "./network/report-egress-filter.ts";
import type { AgentRegistry } from "./node-agents/agent-registry.ts";
import type { CodeUpdater } from "./updates/code-updater.ts";

export type { BerthOptions } from "./composition/berth-options.ts";

/** See `Berth.debugCounts()`. */
export interface BerthDebugCounts {
  /** Socket.IO client connections open. */
  connections: number;
  /** Stats watches and log follows held open by connections. */
  subscriptions: number;
  /** Listeners on berth's own emitters (manager, activity, channel hub, health, restarts, bring-back, tokens, engine monitor). */
  listeners: number;
  /** Requests to workloads not yet answered. */
  workloadCallsInFlight: number;
  /** Lifecycle work under way: 0 when none (see ContainerManager.operationsUnderWay). */
  operationsUnderWay: number;
}

/**
 * One berth server: `Berth.open()` builds it (src/composition/compose-berth.ts
 * builds every object, in order), `start()` runs it, and `close()` disposes of
 * everything in reverse order. Tests start several of these side by side,
 * each with its own data directory and so its own instance id.
 */
export class Berth {
  readonly config: Config;
  readonly log: SystemLogger;
  /** Every secret and token, per owner; `secrets.system` redacts the system log. */
  readonly secrets: SecretRegistry;
  readonly instanceId: string;
  readonly manager: ContainerManager;
  readonly engine: EngineMonitor;
  readonly restarts: RestartSupervisor;
  /** Starts again, once the engine is back, what its going away stopped. */
  readonly bringBack: EngineReturnRestarter;
  readonly updater: CodeUpdater;
  readonly health: HealthMonitor;
  readonly activity: UserActivityLogger;
  /** Per-owner quota usage (the store plus operations under way). */
  readonly quotas: QuotaLedger;
  /** The bounded, fair queue of engine operations. */
  readonly engineQueue: FairQueue;
  /** Prometheus metrics; undefined with BERTH_METRICS=false, when nothing at all is measured. */
  readonly metrics: BerthMetrics | undefined;
  /** The tokens in force; with BERTH_TOKENS_FILE, reloaded by `reloadTokens()` (SIGHUP) and when the file changes. */
  readonly tokens: TokenStore;
  /** The node agents connected now (cluster mode, BERTH_AGENT_TOKEN); undefined in single-host mode. */
  readonly agents: AgentRegistry | undefined;
  readonly #parts: BerthParts;
  #closing: Promise<void> | undefined;

  /**
   * Builds berth from its config: makes the data directory and the key for
   * secrets at rest at the first start, opens the store, reads the tokens.
   * Nothing runs until `start()`; `close()` closes the store too. A step that
   * fails disposes of what the steps before it built.
   *
   * @example
   * const berth = await Berth.open(loadConfig(process.env));
   * await berth.start();
   */
  static async open(config: Config, options: BerthOptions = {}): Promise<Berth> {
    return new Berth(await composeBerth(config, options));
  }

  private constructor(parts: BerthParts) {
    this.#parts = parts;
    ({
      config: this.config,
      log: this.log,
      secrets: this.secrets,
      instanceId: this.instanceId,
      manager: this.manager,
      engine: this.engine,
      restarts: this.restarts,
      bringBack: this.bringBack,
      updater: this.updater,
      health: this.health,
      activity: this.activity,
      quotas: this.quotas,
      engineQueue: this.engineQueue,
      metrics: this.metrics,
      tokens: this.tokens,
      agents: this.agents,
    } = parts);
  }

  /**
   * Reads the tokens file again. A file that is refused (unreadable, readable
   * by others, a line that does not parse) changes nothing: the tokens in
   * force stay, and the system log says why — with the line number, never
   * the line. Returns whether the new file was taken.
   */
  reloadTokens(): boolean {
    if (this.config.tokensFile === undefined) return false;
    try {
      const change = this.tokens.reload();
      this.log.info(
        { file: this.config.tokensFile, added: change?.added ?? [], revoked: change?.revoked ?? [] },
        change ? "tokens reloaded" : "tokens reloaded; nothing changed",
      );
      return true;
    } catch (err) {
      // Never thrown on: a reload runs from a signal handler or a file watch, where it would take berth down.
      const context = err instanceof TokensFileError ? { line: err.line, reason: err.reason } : { err };
      this.log.error(
        { file: this.config.tokensFile, ...context },
        "tokens file refused; the tokens in force stay",
      );
      return false;
    }
  }

  /** The channel hub (for benchmarks and tests that talk to workloads without Socket.IO). */
  get channel(): ChannelPort {
    return this.#parts.channel;
  }

  /** Stats watches and log follows that clients hold open right now. */
  get activeSubscriptions(): number {
    return this.#parts.sockets.activeSubscriptions;
  }

  /** Bytes berth holds now for the client connection `socketId` (undefined when it is not connected). */
  clientBufferedBytes(socketId: string): number | undefined {
    return this.#parts.sockets.bufferedBytes(socketId);
  }

  /** Packets kept for connection-state recovery now, across all connections. */
  get recoveryPackets(): number {
    return this.#parts.sockets.recoveryPackets;
  }

  /**
   * What berth holds now, counted from what it already keeps — a diagnostic
   * for tests and investigations of leaks (every count is back to its idle
   * value once clients are gone and operations are done), not an API.
   *
   * @example
   * const before = berth.debugCounts();
   * // ... clients come and go ...
   * expect(berth.debugCounts()).toEqual(before);
   */
  debugCounts(): BerthDebugCounts {
    return {
      connections: this.#parts.sockets.io.of("/").sockets.size,
      subscriptions: this.activeSubscriptions,
      listeners: countListeners(this.#parts.emitters),
      workloadCallsInFlight: this.#parts.channel.inFlightCount,
      operationsUnderWay: this.manager.operationsUnderWay,
    };
  }

  /**
   * Reconciles with the engine (when it answers), starts the background
   * services, then listens. Resolves with the bound port. What it starts is
   * pushed on the disposal stack before it starts, so `close()` stops it first.
   * A `close()` that comes while it awaits (a SIGTERM during the reconciliation)
   * makes it start nothing more and reject SHUTTING_DOWN: the stack that would
   * stop what it started is being, or has been, disposed of.
   */
  async start(): Promise<number> {
    const { config, log, stack, engine, reconciliation, ownerNetworks, leftoverHolds, events } = this.#parts;
    this.#refuseIfClosing();
    // Cluster mode: outbound workloads are filtered by their nodes' agents, never by this host's firewall.
    if (config.allowNetwork && !config.cluster) await reportEgressFilter(this.#parts.egress, log);
    this.#refuseIfClosing();
    stack.defer("owner networks' egress re-check", () => ownerNetworks.close());
    ownerNetworks.start();
    const records = await this.#parts.store.containers.all();
    this.#refuseIfClosing();
    // Registered before any container is known, so secrets of adopted containers are hidden too.
    // Values stored by an older berth may exceed today's bounds: they are hidden all the same.
    for (const record of records) {
      this.secrets.addEnvironment(record.owner, record.spec.env, record.spec.secretEnv);
      if (record.state === "running") this.#parts.running.noteRunning(record);
    }
    stack.defer("leftover CPU holds", () => leftoverHolds.close());
    stack.defer("reconciliation retries", () => reconciliation.close());
    // What a crash left cut half-way, read before this berth makes any operation of its own. In cluster
    // mode the leading server does it, at each term (ClusterSteward): other servers' operations run on.
    const cluster = this.#parts.cluster;
    if (!cluster) reconciliation.start(CutByCrash.of(records));
    // Engine events from before the reconciliation reads the engine: nothing between the two is missed.
    const watchSince = Date.now();
    const status = await engine.check();
    this.#refuseIfClosing();
    if (status.state === "up") await Promise.all([reconciliation.run(), this.#reportImages()]);
    this.#refuseIfClosing();
    // Every later return of the engine: the first check's own "up" was handled just above.
    engine.on("up", () => {
      this.#parts.runtimeOffer.invalidate();
      void reconciliation.run();
      void this.#reportImages();
      events.nudge();
    });
    stack.defer("engine monitor", () => engine.stop());
    engine.start();
    // PostgreSQL: the store's notices of container changes, which the owners kept in memory and the leader's
    // health watch go by (stopped by the stack, from the build).
    this.#parts.containerChanges?.start();
    // Cluster mode: which nodes are up, as the Swarm's manager says, and the lead of the cluster (both
    // stopped by the stack, from the build); the leader follows the engines' events.
    if (cluster) cluster.start();
    else events.start(watchSince);
    // The node agents connected here: their leases renewed while the store answers (stopped by the stack).
    this.#parts.agentLeases?.start();
    if (config.tokensFile !== undefined) {
      const watcher = TokensFileWatcher.start(
        config.tokensFile,
        () => this.reloadTokens(),
        (err) => log.warn({ err }, "watching the tokens file failed; send SIGHUP to reload it"),
      );
      stack.defer("tokens file watch", () => watcher.close());
    }
    await this.#parts.app.listen({ host: config.host, port: config.port });
    if (this.#closing !== undefined) {
      // Fastify's close() during a pending listen() resolves and leaves the server bound once the
      // listen ends: unbound here. The pid file, removed by then, is not written back.
      const { server } = this.#parts.app;
      if (server.listening) await new Promise((resolve) => server.close(resolve));
      throw new ShuttingDownError();
    }
    this.#parts.pidFile.write();
    const address = this.#parts.app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    log.info({ host: config.host, port, instance: this.instanceId }, "berth is listening");
    return port;
  }

  #refuseIfClosing(): void {
    if (this.#closing !== undefined) throw new ShuttingDownError();
  }

  /** Logs each allowed image the engine lacks, with how to build it; berth serves on without it. */
  async #reportImages(): Promise<void> {
    await this.#parts.images.report(
      this.config.allowedImages,
      this.log.child({ component: "ImageCatalog" }),
      this.config.runtimeImages,
    );
  }

  /**
   * Stops taking work, lets operations in flight finish, then disposes of
   * everything in the reverse order it was built (see composeBerth). Safe to
   * call twice.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.log.info("berth is shutting down");
      await this.#parts.stack.dispose();
      this.log.info("berth stopped");
      this.log.flush();
    })();
    return this.#closing;
  }
}
