import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { CONTAINER_STATES, type ContainerState, HEALTH_STATES, type HealthState } from "#protocol";
import type { OperationOutcome } from "../containers/operation-tracker.ts";
import { ChannelMetrics } from "./channel-metrics.ts";
import { OPERATION_BUCKETS } from "./metric-buckets.ts";
import { outcomeOf } from "./outcome.ts";

/** What the gauges read at scrape time, from whoever knows it now. */
export interface MetricSources {
  /** Containers by state and health (the store's own count). */
  containers(): Promise<Iterable<{ state: ContainerState; health: HealthState; count: number }>>;
  /** Authenticated Socket.IO connections open now. */
  connectedClients(): number;
  /** Workloads whose channel has completed its handshake now. */
  connectedWorkloads(): number;
  /** Listeners on berth's own emitters now (`Berth.debugCounts().listeners`): one that only grows is a leak. */
  listeners(): number;
}

export interface BerthMetricsOptions {
  sources: MetricSources;
  /** BERTH_METRICS_PER_CONTAINER: a `container` label on the channel's series. */
  perContainer: boolean;
  /** berth's version, for `berth_build_info`. */
  version: string;
}

/**
 * Every metric berth keeps, on a registry of its own (never prom-client's
 * global one, so that several berths in one process do not collide), with the
 * process's default metrics (event-loop lag, heap, GC) beside them.
 * docs/metrics.md lists each one, and a test keeps the two in step.
 *
 * Gauges of what is (containers, connections) are read from their sources at
 * scrape time, never kept in step by hand; counters and histograms are fed by
 * the components' own events (see `observeBerth`) and, on the channel's hot
 * path, by the `channel` observer.
 *
 * @example
 *   const metrics = new BerthMetrics({ sources, perContainer: false, version });
 *   const channels = new SocketCommunicationHandler({ ..., observer: metrics.channel });
 *   reply.type(metrics.contentType).send(await metrics.scrape());
 */
export class BerthMetrics {
  readonly registry = new Registry();
  readonly channel: ChannelMetrics;
  readonly #operations: Counter<"op" | "outcome">;
  readonly #operationDuration: Histogram<"op">;
  readonly #engineCalls: Counter<"op">;
  readonly #engineErrors: Counter<"op" | "kind">;
  readonly #eventStreamReconnects: Counter;
  readonly #activityEntries: Counter<"action">;

  constructor(options: BerthMetricsOptions) {
    const registers = [this.registry];
    const { sources } = options;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "berth_build_info",
      help: "Always 1; the labels say which berth this is.",
      labelNames: ["version"],
      registers,
    }).set({ version: options.version }, 1);

    new Gauge({
      name: "berth_containers",
      help: "Containers berth manages, by state (every state is reported, 0 included).",
      labelNames: ["state"],
      registers,
      async collect() {
        const counts = new Map<string, number>(CONTAINER_STATES.map((s) => [s, 0]));
        for (const { state, count } of await sources.containers())
          counts.set(state, (counts.get(state) ?? 0) + count);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: "berth_containers_health",
      help: "Containers berth manages, by health (every health is reported, 0 included).",
      labelNames: ["health"],
      registers,
      async collect() {
        const counts = new Map<string, number>(HEALTH_STATES.map((h) => [h, 0]));
        for (const { health, count } of await sources.containers())
          counts.set(health, (counts.get(health) ?? 0) + count);
        for (const [health, count] of counts) this.set({ health }, count);
      },
    });
    new Gauge({
      name: "berth_connected_clients",
      help: "Authenticated Socket.IO connections open now.",
      registers,
      collect() {
        this.set(sources.connectedClients());
      },
    });
    new Gauge({
      name: "berth_connected_workloads",
      help: "Workloads connected to their channel now (handshake done).",
      registers,
      collect() {
        this.set(sources.connectedWorkloads());
      },
    });
    new Gauge({
      name: "berth_listeners",
      help: "Listeners on berth's own emitters now; flat under a steady load, back to its idle value once clients leave.",
      registers,
      collect() {
        this.set(sources.listeners());
      },
    });

    this.#operations = new Counter({
      name: "berth_operations_total",
      help: "Lifecycle and update operations clients asked for, by operation and outcome (ok or the error code).",
      labelNames: ["op", "outcome"],
      registers,
    });
    this.#operationDuration = new Histogram({
      name: "berth_operation_duration_seconds",
      help: "How long lifecycle and update operations took, whatever their outcome, by operation.",
      labelNames: ["op"],
      buckets: OPERATION_BUCKETS,
      registers,
    });
    this.channel = new ChannelMetrics(this.registry, options.perContainer);
    this.#engineCalls = new Counter({
      name: "berth_engine_calls_total",
      help: "Calls berth made to the Docker engine, by call (retries of one call count once).",
      labelNames: ["op"],
      registers,
    });
    this.#engineErrors = new Counter({
      name: "berth_engine_errors_total",
      help: "Engine calls that failed, by call and kind (the error code berth made of the failure).",
      labelNames: ["op", "kind"],
      registers,
    });
    this.#eventStreamReconnects = new Counter({
      name: "berth_engine_event_stream_reconnects_total",
      help: "Times berth reconnected to the engine's event stream after it dropped or failed.",
      registers,
    });
    this.#activityEntries = new Counter({
      name: "berth_activity_entries_total",
      help: "Entries written to the activity feed, by action.",
      labelNames: ["action"],
      registers,
    });
  }

  /** The content type of `scrape()`'s text (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format; the gauges read their sources now. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** An operation a client asked for ended (the ContainerManager's `operation` event). */
  operationEnded(outcome: Pick<OperationOutcome, "op" | "ok" | "ms" | "error">): void {
    this.#operations.inc({ op: outcome.op, outcome: outcome.ok ? "ok" : outcomeOf(outcome.error) });
    this.#operationDuration.observe({ op: outcome.op }, outcome.ms / 1000);
  }

  /** One engine call ended; `error` undefined when it succeeded. */
  engineCall(op: string, error: unknown): void {
    this.#engineCalls.inc({ op });
    if (error !== undefined) this.#engineErrors.inc({ op, kind: outcomeOf(error) });
  }

  eventStreamReconnected(): void {
    this.#eventStreamReconnects.inc();
  }

  activityEntryWritten(action: string): void {
    this.#activityEntries.inc({ action });
  }
}
