import { managedLabels } from "../containers/container-config.ts";
import { isContainerId } from "../containers/container-id.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { DockerClient, EngineEvent, EventSubscription } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerStore } from "../store/store-ports.ts";
import { RetryPolicy } from "../util/retry-policy.ts";

/** The engine actions that can change what berth reports about a container. */
const RELEVANT = new Set(["start", "die", "oom", "pause", "unpause", "destroy", "kill", "stop", "restart"]);

export interface EngineEventWatcherOptions {
  docker: DockerClient;
  manager: ContainerManager;
  repo: ContainerStore;
  instanceId: string;
  log: SystemLogger;
  /** The image's HEALTHCHECK result changed. */
  onDockerHealth?: (id: string, status: "healthy" | "unhealthy" | "starting") => void;
  /** The stream is back after it dropped or failed (metrics). */
  onReconnected?: () => void;
}

/**
 * Follows the engine's event stream (no polling) for this instance's
 * containers and turns each relevant event into a state check through the
 * ContainerManager. When the stream drops — the engine restarted, the socket
 * broke — it reconnects with back-off and resyncs every container against the
 * engine, so a change made while nobody watched is still reported; since a
 * change is only reported when the recorded state differs, nothing is
 * reported twice.
 */
export class EngineEventWatcher {
  readonly #o: EngineEventWatcherOptions;
  readonly #log: SystemLogger;
  /** The watch under way, from start() until stop() or close(); a later start() begins another. */
  #watch: Watch | undefined;
  #closed = false;
  /** The events being followed, one after the other (#follow never rejects). */
  #following: Promise<void> = Promise.resolve();
  readonly #backoff = new RetryPolicy({ isRetryable: () => true, baseDelayMs: 250, maxDelayMs: 5_000 });

  constructor(options: EngineEventWatcherOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "EngineEventWatcher" });
  }

  /**
   * Starts watching, with the events since `sinceMs` (now, without): at
   * start-up, from before the reconciliation, so that a change between its
   * reading of the engine and the stream's opening — a workload that exits
   * just then — is not lost, which would leave it `running` for good.
   */
  start(sinceMs?: number): void {
    if (this.#closed || this.#watch) return;
    const watch: Watch = {
      stopped: false,
      subscription: undefined,
      wake: undefined,
      loop: Promise.resolve(),
    };
    this.#watch = watch;
    watch.loop = this.#run(watch, sinceMs);
  }

  /**
   * Stops watching until the next start(): in cluster mode only the API
   * server that leads the cluster follows the engines' events, and one that
   * steps down stops at once. Resolves once the stream is closed.
   */
  async stop(): Promise<void> {
    const watch = this.#watch;
    if (!watch) return;
    this.#watch = undefined;
    watch.stopped = true;
    watch.subscription?.close();
    watch.wake?.();
    await watch.loop;
  }

  /** Reconnects now instead of waiting out the back-off (the engine monitor saw the engine come back). */
  nudge(): void {
    this.#watch?.wake?.();
  }

  async #run(watch: Watch, firstSinceMs: number | undefined): Promise<void> {
    let resyncNeeded = false;
    let attempt = 0;
    while (!watch.stopped) {
      const since = firstSinceMs ?? Date.now();
      firstSinceMs = undefined;
      try {
        watch.subscription = await this.#o.docker.streamEvents(
          managedLabels(this.#o.instanceId),
          since,
          (e) => {
            if (!watch.stopped) this.#onEvent(e);
          },
        );
        // stop() may have run while the stream was being opened: it could not close a
        // subscription it did not have yet, and `done` would then never settle.
        if (watch.stopped) {
          watch.subscription.close();
          break;
        }
        if (resyncNeeded) {
          this.#o.onReconnected?.();
          await this.resync("event stream reconnected");
        }
        attempt = 0;
        await watch.subscription.done;
        if (!watch.stopped) this.#log.warn("engine event stream ended; reconnecting");
      } catch (err) {
        if (watch.stopped) break;
        this.#log.warn({ err }, "engine event stream failed; reconnecting");
      }
      resyncNeeded = true;
      if (watch.stopped) break;
      const delay = this.#backoff.delayFor(++attempt);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        watch.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      watch.wake = undefined;
    }
  }

  #onEvent(e: EngineEvent): void {
    const base = e.action.split(":")[0] ?? "";
    if (!RELEVANT.has(base) && !e.action.startsWith("health_status")) return;
    const id = e.labels["berth.id"];
    if (!id || !isContainerId(id)) return;
    // Judged as the event arrives, while the operation that may have caused it is still the last one.
    const caused = !e.action.startsWith("health_status") && this.#o.manager.causedByBerth(id, base, e.time);
    // One event after the other, in the engine's order: each first asks the store whether berth knows the container.
    const next = this.#following.then(() => this.#follow(e, id, caused));
    this.#following = next;
  }

  async #follow(e: EngineEvent, id: string, caused: boolean): Promise<void> {
    try {
      const record = await this.#o.repo.get(id);
      if (!record) return;
      // Another engine container than the one berth drives for it (a stale copy on a node that was cut
      // off, or one a node's agent made up): what it says is not the workload's health or state.
      if (record.dockerId !== null && record.dockerId !== e.dockerId) return;
    } catch (err) {
      this.#log.warn({ err, containerId: id }, "could not follow an engine event");
      return;
    }
    this.#log.debug({ containerId: id, action: e.action }, "engine event");
    if (e.action.startsWith("health_status")) {
      const status = e.action.split(":")[1]?.trim();
      if (status === "healthy" || status === "unhealthy" || status === "starting")
        this.#o.onDockerHealth?.(id, status);
      return;
    }
    if (caused) return;
    this.#o.manager.syncFromEngine(id, describe(e)).catch((err) => {
      this.#log.warn({ err, containerId: id }, "could not follow an engine event");
    });
  }

  /** Compares every container with the engine and records what changed. */
  async resync(reason: string): Promise<void> {
    this.#log.info({ reason }, "resyncing with the engine");
    await Promise.all(
      (await this.#o.repo.all()).map((r) =>
        this.#o.manager.syncFromEngine(r.id, reason).catch((err) => {
          this.#log.warn({ err, containerId: r.id }, "resync failed for a container");
        }),
      ),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.stop();
    await this.#following;
  }
}

/** One watch, from a start() to its stop(): its own stream, and its own wake-up from the back-off. */
interface Watch {
  stopped: boolean;
  subscription: EventSubscription | undefined;
  wake: (() => void) | undefined;
  loop: Promise<void>;
}

function describe(e: EngineEvent): string {
  switch (e.action.split(":")[0]) {
    case "die":
      return e.exitCode === undefined ? "the process exited" : `the process exited with code ${e.exitCode}`;
    case "oom":
      return "out of memory";
    case "destroy":
      return "engine container removed";
    case "pause":
      return "paused";
    case "unpause":
      return "unpaused";
    case "start":
      return "started by the engine";
    default:
      return e.action;
  }
}
