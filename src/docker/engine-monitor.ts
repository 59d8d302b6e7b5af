import { EventEmitter } from "node:events";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { DockerClient } from "./docker-client.ts";

export type EngineStatus =
  | { state: "up"; version: string; apiVersion: string; since: number }
  | { state: "down"; reason: string; since: number };

export interface EngineMonitorEvents {
  up: [EngineStatus & { state: "up" }];
  down: [EngineStatus & { state: "down" }];
}

/**
 * Watches whether the engine answers, so that /healthz can say `degraded`
 * with a reason, and so that berth re-syncs by itself when the engine comes
 * back — without a restart of its own.
 */
export class EngineMonitor extends EventEmitter<EngineMonitorEvents> {
  readonly #docker: DockerClient;
  readonly #log: SystemLogger;
  readonly #intervalMs: number;
  #status: EngineStatus = { state: "down", reason: "not checked yet", since: Date.now() };
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<EngineStatus> | undefined;

  constructor(docker: DockerClient, log: SystemLogger, intervalMs = 5_000) {
    super();
    this.#docker = docker;
    this.#log = log.child({ component: "EngineMonitor" });
    this.#intervalMs = intervalMs;
  }

  get status(): EngineStatus {
    return this.#status;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.check(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Checks now; concurrent callers share one check. */
  check(): Promise<EngineStatus> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<EngineStatus> {
    const previous = this.#status;
    try {
      const v = await this.#docker.version();
      if (previous.state !== "up") {
        this.#status = { state: "up", version: v.version, apiVersion: v.apiVersion, since: Date.now() };
        this.#log.info({ version: v.version, apiVersion: v.apiVersion }, "engine is available");
        this.emit("up", this.#status);
      }
    } catch (err) {
      if (previous.state !== "down" || previous.reason === "not checked yet") {
        const reason = "the Docker engine does not answer";
        this.#status = { state: "down", reason, since: Date.now() };
        this.#log.error({ err }, "engine is unavailable");
        this.emit("down", this.#status);
      }
    }
    return this.#status;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
