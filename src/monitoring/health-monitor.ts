import { EventEmitter } from "node:events";
import type { HealthState } from "#protocol";
import { RepeatedLog } from "../logging/repeated-log.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";
import { partialMatch } from "../util/partial-match.ts";

/** What the HealthMonitor needs of the channel hub. */
export interface HealthChannel {
  status(id: string): { connected: boolean; connectedAt?: number };
  request(id: string, data: unknown, opts?: { timeoutMs?: number }): Promise<unknown>;
  on(event: "connected", l: (id: string) => void): unknown;
  on(event: "disconnected", l: (id: string, reason: string) => void): unknown;
  off(event: "connected", l: (id: string) => void): unknown;
  off(event: "disconnected", l: (id: string, reason: string) => void): unknown;
}

export interface HealthChange {
  id: string;
  /** Whose container it is: the reason may quote the workload (a failed check's answer), to be redacted for them. */
  owner: string;
  /** Its name, for the push: carried here so that the push needs no read of the store (see ServerPushes). */
  name: string;
  health: HealthState;
  previous: HealthState;
  reason: string;
}

export interface HealthMonitorEvents {
  change: [HealthChange];
}

export interface HealthMonitorOptions {
  repo: ContainerStore;
  channel: HealthChannel;
  log: SystemLogger;
  /** A running workload that has not connected for this long is unhealthy (default 30 s). */
  connectGraceMs?: number;
}

const DEFAULT_INTERVAL_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_RETRIES = 3;

interface Sources {
  /** The image's own HEALTHCHECK, as the engine reports it. */
  docker: "healthy" | "unhealthy" | "starting" | undefined;
  channel: { connected: boolean; reason: string };
  /** The spec's healthCheck request: consecutive misses and the last failure. */
  check: { misses: number; passedOnce: boolean; lastError: string | undefined } | undefined;
  /** The spec's healthCheck, as the container was tracked (a running container's spec does not change). */
  healthCheck: ContainerRecord["spec"]["healthCheck"];
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  inFlight: boolean;
}

/**
 * Combined health per running container, from three sources: the image's
 * own Docker HEALTHCHECK, the channel (is the workload connected and answering
 * heartbeats — the hub disconnects a peer that stops answering), and the
 * spec's `healthCheck` request, sent every `intervalMs` and failing after
 * `retries` misses in a row. Any unhealthy source makes the container
 * unhealthy, with that source's reason; all known sources healthy makes it
 * healthy; otherwise it is starting. Every change is emitted.
 */
export class HealthMonitor extends EventEmitter<HealthMonitorEvents> {
  readonly #o: HealthMonitorOptions;
  readonly #repeated: RepeatedLog;
  readonly #log: SystemLogger;
  readonly #tracked = new Map<string, Sources>();
  #closed = false;
  /** Per container, the health being written (#set): one after the other, in the order judged. */
  readonly #writes = new Map<string, Promise<void>>();
  readonly #onConnected = (id: string) => this.#channelChanged(id, true, "connected");
  readonly #onDisconnected = (id: string, reason: string) =>
    this.#channelChanged(id, false, `workload disconnected (${reason})`);

  constructor(options: HealthMonitorOptions) {
    super();
    this.#o = options;
    this.#log = options.log.child({ component: "HealthMonitor" });
    this.#repeated = new RepeatedLog(this.#log);
    options.channel.on("connected", this.#onConnected);
    options.channel.on("disconnected", this.#onDisconnected);
  }

  /** Starts (or restarts) watching a container that has just started running. */
  track(record: ContainerRecord): void {
    if (this.#closed) return;
    this.untrack(record.id, false);
    const connected = this.#o.channel.status(record.id).connected;
    const sources: Sources = {
      docker: undefined,
      channel: { connected, reason: connected ? "connected" : "waiting for the workload to connect" },
      check: record.spec.healthCheck ? { misses: 0, passedOnce: false, lastError: undefined } : undefined,
      healthCheck: record.spec.healthCheck,
      startedAt: Date.now(),
      timer: undefined,
      graceTimer: undefined,
      inFlight: false,
    };
    this.#tracked.set(record.id, sources);
    const hc = record.spec.healthCheck;
    if (hc) {
      sources.timer = setInterval(() => void this.#runCheck(record.id), hc.intervalMs ?? DEFAULT_INTERVAL_MS);
      sources.timer.unref();
    }
    sources.graceTimer = setTimeout(() => this.#evaluate(record.id), this.#o.connectGraceMs ?? 30_000);
    sources.graceTimer.unref();
    this.#evaluate(record.id);
  }

  /** Stops watching; the container's health becomes `none` (it is not running). */
  untrack(id: string, setNone = true): void {
    const s = this.#tracked.get(id);
    if (s) {
      clearInterval(s.timer);
      clearTimeout(s.graceTimer);
      this.#tracked.delete(id);
    }
    if (setNone) this.#set(id, "none", "not running");
  }

  /** The engine reported a HEALTHCHECK result (`health_status: healthy` …). */
  dockerHealth(id: string, status: "healthy" | "unhealthy" | "starting"): void {
    const s = this.#tracked.get(id);
    if (!s) return;
    s.docker = status;
    this.#evaluate(id);
  }

  #channelChanged(id: string, connected: boolean, reason: string): void {
    const s = this.#tracked.get(id);
    if (!s) return;
    s.channel = { connected, reason };
    this.#evaluate(id);
  }

  async #runCheck(id: string): Promise<void> {
    const s = this.#tracked.get(id);
    const hc = s?.healthCheck;
    // Not while the workload is not connected: the channel judges that, with the connect grace. A check sent
    // to a workload still booting fails and would count, turning it unhealthy before the grace is over.
    if (!s?.check || !hc || s.inFlight || !s.channel.connected) return;
    s.inFlight = true;
    try {
      const answer = await this.#o.channel.request(id, hc.request, {
        timeoutMs: hc.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      });
      if (hc.expect !== undefined && !partialMatch(answer, hc.expect))
        throw new Error("the answer did not match `expect`");
      s.check.misses = 0;
      s.check.passedOnce = true;
      s.check.lastError = undefined;
    } catch (err) {
      s.check.misses++;
      s.check.lastError = err instanceof Error ? err.message : String(err);
    } finally {
      s.inFlight = false;
    }
    if (this.#tracked.get(id) === s) this.#evaluate(id);
  }

  #evaluate(id: string): void {
    const s = this.#tracked.get(id);
    if (!s) return;
    const retries = s.healthCheck?.retries ?? DEFAULT_RETRIES;
    const graceOver = Date.now() - s.startedAt >= (this.#o.connectGraceMs ?? 30_000);
    let health: HealthState = "healthy";
    let reason = "all checks pass";
    if (s.docker === "unhealthy") {
      health = "unhealthy";
      reason = "the image's HEALTHCHECK fails";
    } else if (s.check && s.check.misses >= retries) {
      health = "unhealthy";
      reason = `the health check failed ${s.check.misses} times in a row: ${s.check.lastError ?? "no answer"}`;
    } else if (
      !s.channel.connected &&
      (graceOver || s.channel.reason !== "waiting for the workload to connect")
    ) {
      health = "unhealthy";
      reason = s.channel.reason;
    } else if (!s.channel.connected || s.docker === "starting" || (s.check && !s.check.passedOnce)) {
      health = "starting";
      reason = !s.channel.connected ? s.channel.reason : "waiting for the first health check";
    }
    this.#set(id, health, reason);
  }

  /**
   * Records `health` unless the store has it already, then emits the change. Writes of
   * one container go one after the other, each reading what the one before wrote.
   */
  #set(id: string, health: HealthState, reason: string): void {
    const write = (this.#writes.get(id) ?? Promise.resolve())
      .then(() => this.#write(id, health, reason))
      .catch((err: unknown) => this.#log.warn({ err, containerId: id, health }, "could not record health"));
    this.#writes.set(id, write);
    void write.then(() => {
      if (this.#writes.get(id) === write) this.#writes.delete(id);
    });
  }

  async #write(id: string, health: HealthState, reason: string): Promise<void> {
    const record = await this.#o.repo.get(id);
    if (!record || record.health === health) return;
    await this.#o.repo.update(id, { health });
    // A workload that reconnects in a loop flips its health each time: logged once per kind of flip, then counted.
    this.#repeated.info(
      `${id}:health:${health}`,
      { containerId: id, health },
      { previous: record.health, reason },
      "health changed",
    );
    this.emit("change", {
      id,
      owner: record.owner,
      name: record.name,
      health,
      previous: record.health,
      reason,
    });
  }

  /**
   * Stops watching every container, leaving the health the store holds as it is: in cluster mode the
   * API server that no longer leads hands the watch to the next, which takes the store's word from there.
   */
  untrackAll(): void {
    for (const id of [...this.#tracked.keys()]) this.untrack(id, false);
  }

  watches(id: string): boolean {
    return this.#tracked.has(id);
  }

  /** How many containers are watched now (a diagnostic: in cluster mode, only the leading server watches). */
  get tracked(): number {
    return this.#tracked.size;
  }

  /** Stops watching, and waits for the health being written (the store closes after). Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#o.channel.off("connected", this.#onConnected);
    this.#o.channel.off("disconnected", this.#onDisconnected);
    this.untrackAll();
    await Promise.all(this.#writes.values());
    this.#repeated.close();
  }
}
