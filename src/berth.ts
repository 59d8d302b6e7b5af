import type { DatabaseSync } from "node:sqlite";
import Fastify, { type FastifyInstance } from "fastify";
import { UserActivityLogger } from "./activity/user-activity-logger.ts";
import { TokenAuthenticator } from "./api/auth.ts";
import { registerHttpRoutes } from "./api/http-routes.ts";
import { SocketIOEventHandler } from "./api/socket-io-event-handler.ts";
import { SocketCommunicationHandler } from "./channel/socket-communication-handler.ts";
import { assertSocketPathFits } from "./channel/socket-path.ts";
import type { Config } from "./config/config.ts";
import { loadInstanceId, loadOrCreateAdminToken, prepareDataDir } from "./config/data-dir.ts";
import { newContainerId } from "./containers/container-id.ts";
import { ContainerManager } from "./containers/container-manager.ts";
import { ContainerPaths } from "./containers/container-paths.ts";
import { reconcile } from "./containers/reconciler.ts";
import { RestartSupervisor } from "./containers/restart-supervisor.ts";
import { DockerodeClient } from "./docker/dockerode-client.ts";
import { EngineMonitor } from "./docker/engine-monitor.ts";
import { Redactor } from "./logging/redactor.ts";
import { createSystemLogger, type SystemLogger } from "./logging/system-logger.ts";
import { ContainerLogs } from "./monitoring/container-logs.ts";
import { EngineEventWatcher } from "./monitoring/engine-event-watcher.ts";
import { HealthMonitor } from "./monitoring/health-monitor.ts";
import { NodeCgroupFs } from "./monitoring/node-cgroup-fs.ts";
import { StatsSampler } from "./monitoring/stats-sampler.ts";
import { ActivityRepository } from "./store/activity-repository.ts";
import { ContainerRepository } from "./store/container-repository.ts";
import { openDatabase } from "./store/database.ts";
import { ReleaseRepository } from "./store/release-repository.ts";
import { CodeUpdater } from "./updates/code-updater.ts";

/** How soon a reconciliation that could not finish everything runs again. */
const RECONCILE_RETRY_MS = 10_000;

export interface BerthOptions {
  /** Where JSON log lines go (tests read them); stdout by default. */
  logDestination?: NodeJS.WritableStream;
  /** Called once with a freshly generated admin token, to print it to the terminal. */
  onAdminTokenCreated?: (token: string) => void;
}

/**
 * One berth server, built by hand from its config: every object is made here
 * and disposed of in reverse order by `close()`. Tests start several of these
 * side by side, each with its own data directory and so its own instance id.
 */
export class Berth {
  readonly config: Config;
  readonly log: SystemLogger;
  readonly redactor: Redactor;
  readonly instanceId: string;
  readonly manager: ContainerManager;
  readonly engine: EngineMonitor;
  readonly #events: EngineEventWatcher;
  readonly #sampler: StatsSampler;
  readonly restarts: RestartSupervisor;
  readonly updater: CodeUpdater;
  readonly health: HealthMonitor;
  readonly activity: UserActivityLogger;
  readonly #db: DatabaseSync;
  readonly #channel: SocketCommunicationHandler;
  readonly #app: FastifyInstance;
  readonly #docker: DockerodeClient;
  readonly #paths: ContainerPaths;
  #sockets: SocketIOEventHandler | undefined;
  #closing: Promise<void> | undefined;
  #retryReconcile: NodeJS.Timeout | undefined;

  constructor(config: Config, options: BerthOptions = {}) {
    this.config = config;
    this.redactor = new Redactor();
    this.log = createSystemLogger({
      level: config.logLevel,
      redactor: this.redactor,
      pretty: options.logDestination === undefined && process.stdout.isTTY === true,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    prepareDataDir(config.dataDir, config.runDir);
    assertSocketPathFits(config.runDir, newContainerId());
    this.instanceId = loadInstanceId(config.dataDir);

    let adminToken = config.adminToken;
    if (config.tokens.size === 0 && adminToken === undefined) {
      const generated = loadOrCreateAdminToken(config.dataDir);
      adminToken = generated.token;
      if (generated.created) options.onAdminTokenCreated?.(generated.token);
    }
    for (const token of config.tokens.values()) this.redactor.addSecret(token);
    if (adminToken) this.redactor.addSecret(adminToken);

    this.#db = openDatabase(`${config.dataDir}/berth.db`);
    const repo = new ContainerRepository(this.#db);
    this.#paths = new ContainerPaths(config.dataDir, config.runDir);
    this.engine = new EngineMonitor(this.log);
    this.#docker = new DockerodeClient({ socketPath: config.dockerSocket, log: this.log, gate: this.engine });
    this.engine.attach(this.#docker);
    this.#channel = new SocketCommunicationHandler({
      runDir: config.runDir,
      maxFrameBytes: config.maxFrameBytes,
      maxRequestTimeoutMs: config.maxRequestTimeoutMs,
      log: this.log,
    });
    const releases = new ReleaseRepository(this.#db);
    // One 'bad_hello' listener per container waiting to become ready; hundreds may wait at once.
    this.#channel.setMaxListeners(0);
    this.manager = new ContainerManager({
      config,
      docker: this.#docker,
      repo,
      releases,
      channel: this.#channel,
      redactor: this.redactor,
      log: this.log,
      instanceId: this.instanceId,
      paths: this.#paths,
    });
    // Registered before any container is known, so secrets of adopted containers are hidden too.
    for (const record of repo.all()) this.redactor.addEnvironment(record.spec.env, record.spec.secretEnv);

    this.updater = new CodeUpdater({
      config,
      manager: this.manager,
      releases,
      channel: this.#channel,
      paths: this.#paths,
      log: this.log,
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
    );
    this.activity = new UserActivityLogger(new ActivityRepository(this.#db), this.redactor, this.log, {
      maxEntriesPerOwner: config.activityMaxEntries,
      maxAgeMs: config.activityMaxAgeMs,
    });
    const samplerLog = this.log.child({ component: "StatsSampler" });
    this.#sampler = new StatsSampler({
      fs: new NodeCgroupFs(),
      engine: { stats: (dockerId) => this.#docker.containerStats(dockerId) },
      onError: (containerId, err) => samplerLog.warn({ containerId, err }, "sampling failed"),
      onFallback: (containerId, cause) =>
        samplerLog.debug({ containerId, cause }, "sampling through the engine"),
    });
    this.manager.on("statusChanged", ({ info }) => this.#sampler.invalidate(info.id));
    this.health = new HealthMonitor({ repo, channel: this.#channel, log: this.log });
    this.manager.on("statusChanged", ({ info }) => {
      const record = info.state === "running" ? repo.get(info.id) : undefined;
      if (record) this.health.track(record);
      else this.health.untrack(info.id);
    });
    this.activity.follow({
      manager: this.manager,
      restarts: this.restarts,
      engine: this.engine,
      health: this.health,
    });
    this.#events = new EngineEventWatcher({
      docker: this.#docker,
      manager: this.manager,
      repo,
      instanceId: this.instanceId,
      log: this.log,
      onDockerHealth: (id, status) => this.health.dockerHealth(id, status),
    });

    this.#app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
    registerHttpRoutes(this.#app, this.engine);
    this.#auth = new TokenAuthenticator(config.tokens, adminToken);
    this.#repo = repo;
  }

  readonly #auth: TokenAuthenticator;
  readonly #repo: ContainerRepository;

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

  /** Reconciles with the engine (when it answers), then listens. Resolves with the bound port. */
  async start(): Promise<number> {
    const status = await this.engine.check();
    if (status.state === "up") await this.#reconcile();
    // Every later return of the engine: the first check's own "up" was handled just above.
    this.engine.on("up", () => {
      void this.#reconcile();
      this.#events.nudge();
    });
    this.engine.start();
    this.#events.start();
    this.#sockets = new SocketIOEventHandler({
      httpServer: this.#app.server,
      channel: this.#channel,
      updater: this.updater,
      monitoring: {
        docker: this.#docker,
        sampler: this.#sampler,
        logs: new ContainerLogs(this.#docker, this.redactor),
      },
      activity: this.activity,
      health: this.health,
      auth: this.#auth,
      manager: this.manager,
      redactor: this.redactor,
      log: this.log,
      maxPayloadBytes: this.config.maxPayloadBytes,
      limits: {
        bufferBytes: this.config.clientBufferBytes,
        maxBufferBytes: this.config.clientBufferMaxBytes,
        graceMs: this.config.clientBufferGraceMs,
        maxRequestsInFlight: this.config.maxRequestsInFlight,
        maxSubscriptions: this.config.maxSubscriptions,
      },
    });
    await this.#app.listen({ host: this.config.host, port: this.config.port });
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
      });
      await this.updater.recover();
      if (report.failed > 0 && !this.#closing) {
        // Something the engine refused (a container it could not remove, …): try again shortly.
        clearTimeout(this.#retryReconcile);
        this.#retryReconcile = setTimeout(() => void this.#reconcile(), RECONCILE_RETRY_MS);
        this.#retryReconcile.unref();
      }
    } catch (err) {
      this.log.error({ err }, "reconciliation failed; it runs again when the engine comes back");
    }
  }

  /** Stops taking work, lets operations in flight finish, then closes in reverse order. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.log.info("berth is shutting down");
      this.engine.stop();
      clearTimeout(this.#retryReconcile);
      await this.#sockets?.close();
      await this.#events.close();
      this.restarts.close();
      this.health.close();
      await this.manager.drain();
      this.activity.close();
      await this.#sampler.close();
      await this.#app.close();
      await this.#channel.closeAll();
      this.#db.close();
      this.log.info("berth stopped");
      this.log.flush();
    })();
    return this.#closing;
  }
}
