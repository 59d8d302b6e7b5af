import { EventEmitter } from "node:events";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { DockerClient } from "./docker-client.ts";
import type { OutageGate } from "./outage-gate.ts";

export type EngineStatus =
  | { state: "up"; version: string; apiVersion: string; since: number }
  | { state: "down"; reason: string; since: number };

export interface EngineMonitorEvents {
  up: [EngineStatus & { state: "up" }];
  down: [EngineStatus & { state: "down" }];
}

export interface EngineMonitorOptions {
  /** How often the engine is probed while it answers. */
  upIntervalMs?: number;
  /** How often while it does not: short, so that berth recovers soon after the engine does. */
  downIntervalMs?: number;
}

/**
 * Knows whether the engine answers. It probes on a timer (often while the
 * engine is down) and also hears of outages from the Docker adapter, so that
 * operations fail fast with DOCKER_UNAVAILABLE while the engine is away,
 * /healthz says `degraded` with the reason, and berth re-syncs by itself when
 * the engine returns — with no restart of its own.
 */
export class EngineMonitor extends EventEmitter<EngineMonitorEvents> implements OutageGate {
  #docker: DockerClient | undefined;
  readonly #log: SystemLogger;
  readonly #upMs: number;
  readonly #downMs: number;
  #status: EngineStatus = { state: "down", reason: "not checked yet", since: Date.now() };
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #checking: Promise<EngineStatus> | undefined;

  constructor(log: SystemLogger, options: EngineMonitorOptions = {}) {
    super();
    this.#log = log.child({ component: "EngineMonitor" });
    this.#upMs = options.upIntervalMs ?? 5_000;
    this.#downMs = options.downIntervalMs ?? 1_000;
  }

  /** The client is attached after construction: it needs this monitor as its gate. */
  attach(docker: DockerClient): void {
    this.#docker = docker;
  }

  get status(): EngineStatus {
    return this.#status;
  }

  isDown(): boolean {
    return this.#status.state === "down" && this.#status.reason !== "not checked yet";
  }

  reportDown(err: unknown): void {
    if (this.#status.state === "down" && this.#status.reason !== "not checked yet") return;
    this.#markDown(err);
  }

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  /** Probes now; concurrent callers share one probe. */
  check(): Promise<EngineStatus> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  #schedule(): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => void this.check().finally(() => this.#schedule()),
      this.#status.state === "up" ? this.#upMs : this.#downMs,
    );
    this.#timer.unref();
  }

  async #check(): Promise<EngineStatus> {
    if (!this.#docker) throw new Error("EngineMonitor used before attach()");
    try {
      const v = await this.#docker.probe();
      if (this.#status.state !== "up") {
        this.#status = { state: "up", version: v.version, apiVersion: v.apiVersion, since: Date.now() };
        this.#log.info({ version: v.version, apiVersion: v.apiVersion }, "engine is available");
        this.emit("up", this.#status);
      }
    } catch (err) {
      if (this.#status.state !== "down" || this.#status.reason === "not checked yet") this.#markDown(err);
    }
    return this.#status;
  }

  #markDown(err: unknown): void {
    this.#status = { state: "down", reason: "the Docker engine does not answer", since: Date.now() };
    this.#log.error({ err }, "engine is unavailable");
    this.emit("down", this.#status);
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
