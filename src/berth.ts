import Fastify, { type FastifyInstance } from "fastify";
import type { QuotaLimits } from "#protocol";
import { UserActivityLogger } from "./activity/user-activity-logger.ts";
import { containerUsage } from "./admission/container-usage.ts";
import { EngineAdmission } from "./admission/engine-admission.ts";
import { FairQueue } from "./admission/fair-queue.ts";
import { QuotaLedger } from "./admission/quota-ledger.ts";
import { type QuotaOverrides, quotaLimitsFor } from "./admission/quota-limits.ts";
import { RateLimiter } from "./admission/rate-limiter.ts";
import { DASHBOARD_DIR, registerDashboardRoutes } from "./api/dashboard-routes.ts";
import { registerHttpRoutes } from "./api/http-routes.ts";
import { registerMetricsRoute } from "./api/metrics-route.ts";
import { SocketIOEventHandler } from "./api/socket-io-event-handler.ts";
import { HandshakeLimiter } from "./auth/handshake-limiter.ts";
import { TokenStore } from "./auth/token-store.ts";
import { TokensFileError } from "./auth/tokens-file.ts";
import { TokensFileWatcher } from "./auth/tokens-file-watcher.ts";
import { SocketCommunicationHandler } from "./channel/socket-communication-handler.ts";
import { assertSocketPathFits } from "./channel/socket-path.ts";
import type { Config } from "./config/config.ts";
import { loadInstanceId, prepareDataDir } from "./config/data-dir.ts";
import { removePidFile, writePidFile } from "./config/pid-file.ts";
import { newContainerId } from "./containers/container-id.ts";
import { ContainerManager } from "./containers/container-manager.ts";
import { ContainerPaths } from "./containers/container-paths.ts";
import { backfillCpuLimits } from "./containers/cpu-limit-backfill.ts";
import { CutByCrash } from "./containers/cut-by-crash.ts";
import { effectiveLimits } from "./containers/effective-limits.ts";
import { EngineReturnRestarter } from "./containers/engine-return-restarter.ts";
import { ImageCatalog } from "./containers/image-catalog.ts";
import { InterruptedOperations } from "./containers/interrupted-operation.ts";
import { giveBackLeftoverHolds } from "./containers/leftover-holds.ts";
import { protectOwnerNetworks } from "./containers/owner-network.ts";
import { reconcile } from "./containers/reconciler.ts";
import { RestartSupervisor } from "./containers/restart-supervisor.ts";
import { RuntimeOffer } from "./containers/runtime-offer.ts";
import { DockerodeClient } from "./docker/dockerode-client.ts";
import { EngineMonitor } from "./docker/engine-monitor.ts";
import { ImageChecker } from "./images/image-checker.ts";
import { SecretRegistry } from "./logging/secret-registry.ts";
import { createSystemLogger, type SystemLogger } from "./logging/system-logger.ts";
import { BerthMetrics } from "./metrics/berth-metrics.ts";
import { observeBerth } from "./metrics/observe-berth.ts";
import { ChannelTally } from "./monitoring/channel-tally.ts";
import { ContainerLogs } from "./monitoring/container-logs.ts";
import { ContainerTelemetry } from "./monitoring/container-telemetry.ts";
import { EngineEventWatcher } from "./monitoring/engine-event-watcher.ts";
import { engineTarget } from "./monitoring/engine-target.ts";
import { HealthMonitor } from "./monitoring/health-monitor.ts";
import { isContainerGone, logHoldEvent } from "./monitoring/hold-event-log.ts";
import { NodeCgroupFs } from "./monitoring/node-cgroup-fs.ts";
import { PressureMonitor } from "./monitoring/pressure-monitor.ts";
import { StatsHistory } from "./monitoring/stats-history.ts";
import { StatsSampler } from "./monitoring/stats-sampler.ts";
import { EgressFirewall } from "./network/egress-firewall.ts";
import { egressPolicy } from "./network/egress-policy.ts";
import { ExecFileIptables, type Iptables } from "./network/iptables.ts";
import { reportEgressFilter } from "./network/report-egress-filter.ts";
import { adminTokenPath, loadOrCreateAdminToken } from "./secrets/admin-token-file.ts";
import { openSecretsAtRest, type SecretsAtRest } from "./secrets/secrets-at-rest.ts";
import { openStore, sqlitePath } from "./store/open-store.ts";
import { openPostgresSecretsAtRest } from "./store/postgres/postgres-secrets-at-rest.ts";
import { openDatabase } from "./store/sqlite/database.ts";
import type { ContainerRecord, ContainerStore, Store } from "./store/store-ports.ts";
import { CodeUpdater } from "./updates/code-updater.ts";
import { recoverUpdates } from "./updates/update-recovery.ts";
import { BERTH_VERSION } from "./version.ts";

/**
 * The key for secrets at rest, made at the first start, and the plain-text values an earlier
 * berth stored sealed now. SQLite only (see openSecretsAtRest): it works on the file itself,
 * before the store opens it.
 */
function openSqliteSecretsAtRest(config: Config): SecretsAtRest {
  const db = openDatabase(sqlitePath(config));
  try {
    return openSecretsAtRest(db, config.secretKeyFile);
  } finally {
    db.close();
  }
}

/** How soon a reconciliation that could not finish everything runs again. */
const RECONCILE_RETRY_MS = 10_000;

export interface BerthOptions {
  /** Where JSON log lines go (tests read them); stdout by default. */
  logDestination?: NodeJS.WritableStream;
  /** Called once with a freshly generated admin token and the file that keeps it, to print it to the terminal. */
  onAdminTokenCreated?: (token: string, file: string) => void;
  /** The host's packet filter for `network: 'outbound'` (tests pass a missing binary); the `iptables` on the PATH by default. */
  iptables?: Iptables;
  /** How often the owner bridges' egress rules are checked and put back if lost (default 30 s). */
  egressRecheckMs?: number;
  /** Where the built dashboard is (default packages/dashboard/dist, which set-up builds). */
  dashboardDir?: string;
  /** The registry to fill; main.ts passes its own, so that its fatal-error report hides what berth registered. */
  secrets?: SecretRegistry;
}

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
  /** Containers with a lifecycle operation running or waiting. */
  operationsUnderWay: number;
}

/**
 * One berth server, built by hand from its config: every object is made here
 * and disposed of in reverse order by `close()`. Tests start several of these
 * side by side, each with its own data directory and so its own instance id.
 */
export class Berth {
  readonly config: Config;
  readonly log: SystemLogger;
  /** Every secret and token, per owner; `secrets.system` redacts the system log. */
  readonly secrets: SecretRegistry;
  readonly instanceId: string;
  readonly manager: ContainerManager;
  readonly engine: EngineMonitor;
  readonly #events: EngineEventWatcher;
  readonly #sampler: StatsSampler;
  readonly #history: StatsHistory;
  readonly #pressure: PressureMonitor;
  readonly #channelTally: ChannelTally;
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
  readonly #rates: RateLimiter;
  /** One budget of tries per address, before authentication: Socket.IO's handshakes and /metrics' failed tries. */
  readonly #handshakes: HandshakeLimiter;
  readonly #store: Store;
  /** Each running container's CPU limit, for the pressure monitor's holds, which ask synchronously. */
  readonly #nanoCpus = new Map<string, number>();
  /** Health tracking follows status changes one after the other (each reads the record first). */
  #healthFollow: Promise<void> = Promise.resolve();
  readonly #channel: SocketCommunicationHandler;
  readonly #app: FastifyInstance;
  readonly #docker: DockerodeClient;
  readonly #paths: ContainerPaths;
  readonly #egress: EgressFirewall;
  readonly #egressRecheckMs: number;
  readonly #images: ImageCatalog;
  /** server:info's runtimes, read from the engine at most every few seconds whoever asks. */
  readonly #runtimeOffer: RuntimeOffer;
  readonly #imageChecker: ImageChecker;
  #sockets: SocketIOEventHandler | undefined;
  readonly #quotaLimits: (owner: string) => QuotaLimits;
  #closing: Promise<void> | undefined;
  #retryReconcile: NodeJS.Timeout | undefined;
  /** Taken by start(); empty until then. */
  #cutByCrash = CutByCrash.of([]);
  /** What the reconciliation and the update recovery did about operations a crash cut; the feed tells it. */
  readonly #interrupted = new InterruptedOperations();
  /** The pass giving back holds an earlier berth left (giveBackLeftoverHolds), while it runs; done once it found no failure. */
  #leftoverHolds: Promise<void> | undefined;
  #leftoverHoldsDone = false;
  /** Whether the restarts a killed berth had due were taken up (RestartSupervisor.resume). */
  #resumedRestarts = false;
  /** A host firewall reload (ufw, firewalld) flushes berth's rules while containers run: they are put back within this period. */
  #egressRecheck: NodeJS.Timeout | undefined;
  #protecting: Promise<void> | undefined;
  /** Prometheus metrics; undefined with BERTH_METRICS=false, when nothing at all is measured. */
  readonly metrics: BerthMetrics | undefined;
  readonly #unobserve: (() => void) | undefined;

  /**
   * Opens the store (making the data directory and the key for secrets at rest
   * at the first start), then builds berth on it. Nothing runs until `start()`;
   * `close()` closes the store too.
   *
   * @example
   * const berth = await Berth.open(loadConfig(process.env));
   * await berth.start();
   */
  static async open(config: Config, options: BerthOptions = {}): Promise<Berth> {
    const secrets = options.secrets ?? new SecretRegistry();
    // Before anything can fail, so that no error message carries a token out (a generated admin token is added later).
    secrets.setTokens(config.tokens, config.adminToken);
    // The database URL's password too: a store that cannot be reached must not say it in its error.
    secrets.setServerSecrets(config.database?.secrets() ?? []);
    prepareDataDir(config.dataDir, config.runDir);
    const atRest = config.database
      ? await openPostgresSecretsAtRest(config.database.reveal(), config.secretKeyFile)
      : openSqliteSecretsAtRest(config);
    const store = await openStore(config, atRest.cipher);
    try {
      return new Berth(config, { ...options, secrets }, store, atRest);
    } catch (err) {
      await store.close(); // berth does not start: nothing else holds the store
      throw err;
    }
  }

  private constructor(config: Config, options: BerthOptions, store: Store, secrets: SecretsAtRest) {
    this.config = config;
    this.secrets = options.secrets ?? new SecretRegistry();
    this.secrets.setTokens(config.tokens, config.adminToken);
    this.#store = store;
    this.log = createSystemLogger({
      level: config.logLevel,
      redactor: this.secrets.system,
      pretty: options.logDestination === undefined && process.stdout.isTTY === true,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    assertSocketPathFits(config.runDir, newContainerId());
    this.instanceId = loadInstanceId(config.dataDir);

    let adminToken = config.adminToken;
    // A tokens file holds owners only: without BERTH_ADMIN_TOKEN berth makes the admin's token here too, so
    // that someone can still manage the containers of an owner whose token was removed.
    if (config.tokens.size === 0 && adminToken === undefined) {
      const file = adminTokenPath(config.secretKeyFile);
      const generated = loadOrCreateAdminToken(file, config.dataDir);
      adminToken = generated.token;
      this.secrets.setTokens(config.tokens, adminToken);
      if (generated.created) options.onAdminTokenCreated?.(generated.token, file);
      if (generated.movedFrom)
        this.log.info(
          { from: generated.movedFrom, to: file },
          "moved the admin token out of the data directory",
        );
    }
    // Throws TokensFileError when the tokens file is refused: berth stops with that message.
    this.tokens = new TokenStore({
      tokens: config.tokens,
      adminToken,
      file: config.tokensFile,
      // The new tokens are in force by then, and the other listeners (closing revoked connections) still run.
      onListenerError: (err) =>
        this.log.error({ err }, "a listener of the tokens change failed; the new tokens are in force"),
    });
    this.secrets.setTokens(this.tokens.tokens, this.tokens.adminToken);
    // Each owner's redactor follows the tokens in force: a new token is hidden from the moment it works.
    this.tokens.on("changed", ({ tokens, adminToken: admin }) => this.secrets.setTokens(tokens, admin));

    if (secrets.createdKey)
      this.log.info({ file: config.secretKeyFile }, "created the key for secrets at rest");
    if (secrets.sealedNow > 0)
      this.log.info(
        { values: secrets.sealedNow },
        "sealed secret values stored in plain text by an earlier berth",
      );
    const repo = store.containers;
    // The gauges read their sources at scrape time: the store's count, the connections open then.
    this.metrics = config.metrics.enabled
      ? new BerthMetrics({
          perContainer: config.metrics.perContainer,
          version: BERTH_VERSION,
          sources: {
            containers: () => repo.tally(),
            connectedClients: () => this.#sockets?.io.of("/").sockets.size ?? 0,
            connectedWorkloads: () => this.#channel.connectedCount,
            listeners: () => this.debugCounts().listeners,
          },
        })
      : undefined;
    const metrics = this.metrics;
    this.#paths = new ContainerPaths(config.dataDir, config.runDir);
    this.engine = new EngineMonitor(this.log);
    this.#docker = new DockerodeClient({
      socketPath: config.dockerSocket,
      log: this.log,
      gate: this.engine,
      ...(metrics ? { onCall: (op: string, err: unknown) => metrics.engineCall(op, err) } : {}),
    });
    this.engine.attach(this.#docker);
    const channelTally = new ChannelTally(metrics?.channel);
    this.#channelTally = channelTally;
    this.#channel = new SocketCommunicationHandler({
      runDir: config.runDir,
      maxFrameBytes: config.maxFrameBytes,
      maxRequestTimeoutMs: config.maxRequestTimeoutMs,
      messageRate: config.channelMessageRate,
      messageBytesRate: config.channelMessageBytesRate,
      log: this.log,
      // The tally adds up each workload's channel traffic for the pressure reports, and passes it on to the metrics.
      observer: channelTally,
    });
    const releases = store.releases;
    this.#egressRecheckMs = options.egressRecheckMs ?? 30_000;
    this.#egress = new EgressFirewall({
      iptables: options.iptables ?? new ExecFileIptables(),
      policy: egressPolicy(config.egressAllow, config.egressBlock),
      instanceId: this.instanceId,
      log: this.log,
    });
    // One 'bad_hello' listener per container waiting to become ready; hundreds may wait at once.
    this.#channel.setMaxListeners(0);
    // Per-owner quota overrides come from the tokens file, read on every check so a reload applies at once.
    const quotaOverrides: QuotaOverrides = (owner) => this.tokens.overridesFor(owner);
    this.#quotaLimits = quotaLimitsFor(config.quota, quotaOverrides);
    const usageRepo = store.usage;
    // A spec without resources gets the server's defaults, so it counts as those.
    const resourceDefaults = { memoryMb: config.defaultMemoryMb, cpus: config.defaultCpus };
    this.quotas = new QuotaLedger(
      {
        usageOf: async (owner) =>
          (await usageRepo.containersOf(owner)).map((u) => ({
            id: u.id,
            usage: containerUsage(u, resourceDefaults),
          })),
      },
      this.#quotaLimits,
    );
    this.engineQueue = new FairQueue(config.engineQueue);
    const admission = new EngineAdmission(this.quotas, this.engineQueue, resourceDefaults);
    this.#rates = new RateLimiter(config.rateLimits);
    this.#images = new ImageCatalog(this.#docker, this.log);
    this.#runtimeOffer = new RuntimeOffer(this.#images, this.config.runtimeImages);
    this.#imageChecker = new ImageChecker({
      config,
      docker: this.#docker,
      paths: this.#paths,
      instanceId: this.instanceId,
      // The manager's answer: a uid a create is storing counts as taken too.
      isUidTaken: (uid) => this.manager.isUidTaken(uid),
      log: this.log,
    });
    this.manager = new ContainerManager({
      config,
      images: this.#images,
      docker: this.#docker,
      repo,
      releases,
      channel: this.#channel,
      secrets: this.secrets,
      log: this.log,
      instanceId: this.instanceId,
      paths: this.#paths,
      admission,
      egress: this.#egress,
      uidsInUse: (uid) => this.#imageChecker.holdsUid(uid),
    });

    this.updater = new CodeUpdater({
      config,
      lifecycle: this.manager.steps,
      releases,
      containers: repo,
      channel: this.#channel,
      paths: this.#paths,
      log: this.log,
      admission,
    });
    // Before the restart supervisor: the exits it defers are those this one holds.
    this.bringBack = new EngineReturnRestarter({
      engine: this.engine,
      manager: this.manager,
      records: () => repo.all(),
      log: this.log,
      probe: () => this.engine.check(),
    });
    this.restarts = new RestartSupervisor(
      this.manager,
      {
        maxRestarts: config.maxRestarts,
        resetAfterMs: config.restartResetMs,
        baseDelayMs: config.restartBaseDelayMs,
        maxDelayMs: 60_000,
      },
      this.log,
      this.bringBack,
    );
    // A held workload that ended on its own: its restart policy answers it, not the bring-back.
    this.bringBack.on("handedBack", ({ info, oomKilled }) => this.restarts.takeExit(info, oomKilled));
    this.activity = new UserActivityLogger(store.activity, this.secrets, this.log, {
      maxEntriesPerOwner: config.activityMaxEntries,
      maxAgeMs: config.activityMaxAgeMs,
    });
    this.#pressure = new PressureMonitor({
      outputRateLimit: config.outputRateLimit,
      messageRate: config.channelMessageRate,
      messageBytesRate: config.channelMessageBytesRate,
      nanoCpusOf: (id) => this.#nanoCpus.get(id),
      setCpuLimit: (dockerId, nanoCpus) => this.#docker.updateCpuLimit(dockerId, nanoCpus),
      // At least two samples of the history in a window, or a slow history would never judge output.
      outputWindowMs: Math.max(10_000, 2 * config.statsHistoryIntervalMs),
      isGone: isContainerGone,
      onHold: logHoldEvent(this.log.child({ component: "PressureMonitor" })),
    });
    this.manager.on("statusChanged", ({ info }) => {
      if (info.state !== "running") this.#pressure.forget(info.id);
    });
    const samplerLog = this.log.child({ component: "StatsSampler" });
    this.#sampler = new StatsSampler({
      onSample: (id, sample) => {
        if (sample.pressure === undefined) return;
        const channel = this.#channelTally.totals(id);
        this.#pressure.observe(id, {
          ...sample.pressure,
          channelBytes: channel?.receivedBytes,
          channelRefused: channel?.refusedFrames,
          channelHolds: channel?.holds,
          channelHeldMs: channel?.heldMs,
        });
      },
      fs: new NodeCgroupFs(),
      engine: { stats: (dockerId) => this.#docker.containerStats(dockerId) },
      // Without an output limit, nobody reads the log files' sizes: not a stat() for them.
      ...(config.outputRateLimit > 0 ? {} : { fileSize: null }),
      onError: (containerId, err) => samplerLog.warn({ containerId, err }, "sampling failed"),
      onFallback: (containerId, cause) =>
        samplerLog.debug({ containerId, cause }, "sampling through the engine"),
    });
    this.manager.on("statusChanged", ({ info }) => this.#sampler.invalidate(info.id));
    // Every running container is sampled at a low rate, always, so that a chart opens with a past.
    this.#history = new StatsHistory({
      sampler: this.#sampler,
      intervalMs: config.statsHistoryIntervalMs,
      target: (id) => engineTarget(this.#docker, async () => (await repo.get(id))?.dockerId),
    });
    this.manager.on("statusChanged", ({ info }) => this.#history.follow(info));
    this.health = new HealthMonitor({ repo, channel: this.#channel, log: this.log });
    this.manager.on("statusChanged", ({ info }) => {
      // In the order the changes came: a start read late must not track a container that has exited since.
      this.#healthFollow = this.#healthFollow
        .then(async () => {
          const record = info.state === "running" ? await repo.get(info.id) : undefined;
          if (record) this.#followRunning(record);
          else {
            this.health.untrack(info.id);
            this.#nanoCpus.delete(info.id);
          }
        })
        .catch((err: unknown) =>
          this.log.warn({ err, containerId: info.id }, "could not follow a status change"),
        );
    });
    // The manager answers the health written last, also for a record it read before (ContainerManager.info).
    this.health.on("change", ({ id, health }) => this.manager.noteHealth(id, health));
    this.activity.follow({
      manager: this.manager,
      interrupted: this.#interrupted,
      restarts: this.restarts,
      bringBack: this.bringBack,
      engine: this.engine,
      health: this.health,
      pressure: this.#pressure,
      memoryLimitOf: async (id) => {
        const record = await repo.get(id);
        return record && effectiveLimits(record.spec, config).memoryBytes;
      },
    });
    this.#events = new EngineEventWatcher({
      docker: this.#docker,
      manager: this.manager,
      repo,
      instanceId: this.instanceId,
      log: this.log,
      onDockerHealth: (id, status) => this.health.dockerHealth(id, status),
      ...(metrics ? { onReconnected: () => metrics.eventStreamReconnected() } : {}),
    });
    this.#unobserve = metrics && observeBerth(metrics, { manager: this.manager, activity: this.activity });

    this.#handshakes = new HandshakeLimiter({
      perMinute: config.handshakesPerMinute,
      onLimit: (address, state, refused) => {
        if (state === "limited")
          this.log.warn({ address }, "refusing handshakes: too many from this address");
        else this.log.info({ address, refused }, "handshakes from this address are let in again");
      },
    });
    this.#app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
    registerHttpRoutes(this.#app, this.engine);
    registerDashboardRoutes(this.#app, options.dashboardDir ?? DASHBOARD_DIR);
    // Without metrics there is no route at all: /metrics answers 404 like any unknown path.
    if (metrics)
      registerMetricsRoute(this.#app, {
        metrics,
        tokens: this.tokens,
        public: config.metrics.public,
        limiter: this.#handshakes,
      });
    this.#repo = repo;
  }

  /** A container that runs: its health is watched, and its CPU limit known to the pressure monitor. */
  #followRunning(record: ContainerRecord): void {
    this.#nanoCpus.set(record.id, effectiveLimits(record.spec, this.config).nanoCpus);
    this.health.track(record);
  }

  /** The tokens in force; with BERTH_TOKENS_FILE, reloaded by `reloadTokens()` (SIGHUP) and when the file changes. */
  readonly tokens: TokenStore;
  readonly #repo: ContainerStore;
  #tokensWatcher: TokensFileWatcher | undefined;

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
  get channel(): SocketCommunicationHandler {
    return this.#channel;
  }

  /** Stats watches and log follows that clients hold open right now. */
  get activeSubscriptions(): number {
    return this.#sockets?.activeSubscriptions ?? 0;
  }

  /** Bytes berth holds now for the client connection `socketId` (undefined when it is not connected). */
  clientBufferedBytes(socketId: string): number | undefined {
    return this.#sockets?.bufferedBytes(socketId);
  }

  /** Packets kept for connection-state recovery now, across all connections. */
  get recoveryPackets(): number {
    return this.#sockets?.recoveryPackets ?? 0;
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
    const emitters = [
      this.manager,
      this.activity,
      this.#channel,
      this.health,
      this.restarts,
      this.bringBack,
      this.tokens,
      this.engine,
      this.#pressure,
    ] as const;
    let listeners = 0;
    for (const emitter of emitters)
      for (const event of emitter.eventNames()) listeners += emitter.listenerCount(event);
    return {
      connections: this.#sockets?.io.of("/").sockets.size ?? 0,
      subscriptions: this.activeSubscriptions,
      listeners,
      workloadCallsInFlight: this.#channel.inFlightCount,
      operationsUnderWay: this.manager.operationsUnderWay,
    };
  }

  /** Reconciles with the engine (when it answers), then listens. Resolves with the bound port. */
  async start(): Promise<number> {
    if (this.config.allowNetwork) await reportEgressFilter(this.#egress, this.log);
    // A pass still running when the next is due is not doubled: the timer skips its turn.
    this.#egressRecheck = setInterval(() => {
      if (!this.#protecting) void this.#protectOwnerNetworks();
    }, this.#egressRecheckMs);
    this.#egressRecheck.unref();
    const records = await this.#repo.all();
    // Registered before any container is known, so secrets of adopted containers are hidden too.
    // Values stored by an older berth may exceed today's bounds: they are hidden all the same.
    for (const record of records) {
      this.secrets.addEnvironment(record.owner, record.spec.env, record.spec.secretEnv);
      if (record.state === "running")
        this.#nanoCpus.set(record.id, effectiveLimits(record.spec, this.config).nanoCpus);
    }
    // What a crash left cut half-way, read before this berth makes any operation of its own.
    this.#cutByCrash = CutByCrash.of(records);
    // Engine events from before the reconciliation reads the engine: nothing between the two is missed.
    const watchSince = Date.now();
    const status = await this.engine.check();
    if (status.state === "up") await Promise.all([this.#reconcile(), this.#reportImages()]);
    // Every later return of the engine: the first check's own "up" was handled just above.
    this.engine.on("up", () => {
      this.#runtimeOffer.invalidate();
      void this.#reconcile();
      void this.#reportImages();
      this.#events.nudge();
    });
    this.engine.start();
    this.#events.start(watchSince);
    this.#sockets = new SocketIOEventHandler({
      httpServer: this.#app.server,
      channel: this.#channel,
      updater: this.updater,
      telemetry: new ContainerTelemetry({
        containers: this.manager,
        docker: this.#docker,
        sampler: this.#sampler,
        history: this.#history,
        logs: new ContainerLogs(this.#docker, this.secrets),
      }),
      activity: this.activity,
      health: this.health,
      auth: this.tokens,
      manager: this.manager,
      redactor: this.secrets,
      log: this.log,
      maxPayloadBytes: this.config.maxPayloadBytes,
      rates: this.#rates,
      maxConnectionsPerOwner: this.config.maxConnectionsPerOwner,
      handshakes: this.#handshakes,
      images: this.#imageChecker,
      serverInfo: {
        version: BERTH_VERSION,
        config: this.config,
        usage: (owner) => this.quotas.usage(owner),
        quotaLimits: this.#quotaLimits,
        runtimes: () => this.#runtimeOffer.runtimes(),
      },
      limits: {
        bufferBytes: this.config.clientBufferBytes,
        maxBufferBytes: this.config.clientBufferMaxBytes,
        graceMs: this.config.clientBufferGraceMs,
        maxRequestsInFlight: this.config.maxRequestsInFlight,
        maxSubscriptions: this.config.maxSubscriptions,
      },
    });
    if (this.config.tokensFile !== undefined) {
      this.#tokensWatcher = new TokensFileWatcher(
        this.config.tokensFile,
        () => this.reloadTokens(),
        (err) => this.log.warn({ err }, "watching the tokens file failed; send SIGHUP to reload it"),
      );
    }
    await this.#app.listen({ host: this.config.host, port: this.config.port });
    writePidFile(this.config.dataDir);
    const address = this.#app.server.address();
    const port = typeof address === "object" && address ? address.port : this.config.port;
    this.log.info({ host: this.config.host, port, instance: this.instanceId }, "berth is listening");
    return port;
  }

  async #reconcile(): Promise<void> {
    try {
      const report = await reconcile({
        docker: this.#docker,
        repo: this.#repo,
        manager: this.manager,
        channel: this.#channel,
        paths: this.#paths,
        instanceId: this.instanceId,
        log: this.log,
        cut: this.#cutByCrash,
        interrupted: this.#interrupted,
      });
      await recoverUpdates(
        {
          lifecycle: this.manager.steps,
          releases: this.#store.releases,
          paths: this.#paths,
          log: this.log.child({ component: "UpdateRecovery" }),
          interrupted: this.#interrupted,
        },
        this.#cutByCrash,
      );
      // What ran before berth started (or while the engine was away) changed no state: follow it here.
      for (const record of await this.#repo.all()) this.#history.follow(record);
      await this.#protectOwnerNetworks();
      await backfillCpuLimits({
        docker: this.#docker,
        repo: this.#repo,
        meta: this.#store.meta,
        defaults: this.config,
        log: this.log,
      });
      this.#giveBackLeftoverHolds();
      // Restarts a killed berth had due: once, after the first reconciliation that got through —
      // at start-up, or when the engine first returns (this berth's own timers outlive an outage).
      if (!this.#resumedRestarts) {
        this.#resumedRestarts = true;
        await this.restarts.resume();
      }
      if (report.failed > 0 && this.#closing === undefined) {
        // Something the engine refused (a container it could not remove, …): try again shortly.
        clearTimeout(this.#retryReconcile);
        this.#retryReconcile = setTimeout(() => void this.#reconcile(), RECONCILE_RETRY_MS);
        this.#retryReconcile.unref();
      }
    } catch (err) {
      this.log.error({ err }, "reconciliation failed; it runs again when the engine comes back");
    }
  }

  /**
   * Gives back, in the background, the CPU limits held by a berth that died during an output hold
   * (an inspect a container: start-up must not wait for a thousand), until one pass found none it
   * could not give back.
   */
  #giveBackLeftoverHolds(): void {
    if (this.#leftoverHolds !== undefined || this.#leftoverHoldsDone) return;
    this.#leftoverHolds = giveBackLeftoverHolds({
      docker: this.#docker,
      repo: this.#repo,
      defaults: this.config,
      heldNanoCpus: this.#pressure.heldNanoCpus,
      isHeld: (id) => this.#pressure.isHeld(id),
      stopped: () => this.#closing !== undefined,
      log: this.log,
    })
      .then(
        ({ failed }) => {
          this.#leftoverHoldsDone = failed === 0;
        },
        (err: unknown) => this.log.warn({ err }, "could not give back the CPU limits an earlier berth held"),
      )
      .finally(() => {
        this.#leftoverHolds = undefined;
      });
  }

  /** Logs each allowed image the engine lacks, with how to build it; berth serves on without it. */
  async #reportImages(): Promise<void> {
    await this.#images.report(
      this.config.allowedImages,
      this.log.child({ component: "ImageCatalog" }),
      this.config.runtimeImages,
    );
  }

  /**
   * One pass over the owner networks' egress rules, after any pass under way (so the engine's return gets
   * a pass that sees what the reconciliation did). close() waits for the last one: a pass finishing after
   * berth is gone would put rules back for a bridge that is about to be removed, and leave them behind.
   */
  #protectOwnerNetworks(): Promise<void> {
    const pass = (this.#protecting ?? Promise.resolve()).then(() => this.#protectPass());
    this.#protecting = pass;
    void pass.finally(() => {
      if (this.#protecting === pass) this.#protecting = undefined;
    });
    return pass;
  }

  async #protectPass(): Promise<void> {
    // A server that never ran outbound containers has no rules to keep, and may well have no iptables.
    const outbound = async () => (await this.#repo.all()).some((r) => r.spec.network === "outbound");
    if (this.#closing !== undefined) return;
    // The store is read inside the try: this runs from a timer, where a failed read would be an unhandled
    // rejection, and main.ts ends berth on those.
    try {
      if (!this.config.allowNetwork && !(await outbound())) return;
      await protectOwnerNetworks(this.#docker, this.#egress, this.instanceId, this.log);
    } catch (err) {
      this.log.error(
        { err },
        "could not check the egress filter of owner networks; it is checked again shortly",
      );
    }
  }

  /** Stops taking work, lets operations in flight finish, then closes in reverse order. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.log.info("berth is shutting down");
      this.engine.stop();
      clearTimeout(this.#retryReconcile);
      clearInterval(this.#egressRecheck);
      await this.#protecting;
      // It stops at the next container once closing is seen.
      await this.#leftoverHolds;
      this.#tokensWatcher?.close();
      await this.#sockets?.close();
      // Checks under way end, and remove their containers and directories, before the engine client goes.
      await this.#imageChecker.close();
      await this.#events.close();
      this.restarts.close();
      await this.bringBack.close();
      await this.health.close();
      await this.manager.drain();
      await this.#healthFollow;
      // Again: the operations drained above untracked what they stopped, and that health is being written.
      await this.health.close();
      await this.activity.close();
      this.#history.close();
      this.#unobserve?.();
      await this.#sampler.close();
      await this.#pressure.close();
      await this.#app.close();
      await this.#channel.closeAll();
      await this.#store.close();
      removePidFile(this.config.dataDir);
      this.log.info("berth stopped");
      this.log.flush();
    })();
    return this.#closing;
  }
}
