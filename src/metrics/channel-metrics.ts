import type { Counter, Histogram, Registry } from "prom-client";
import { Counter as CounterClass, Histogram as HistogramClass } from "prom-client";
import type { ChannelObserver, ContainerTraffic } from "../channel/channel-observer.ts";
import type { ProtocolErrorCode } from "../channel/protocol.ts";
import { LatencyTally } from "./latency-tally.ts";
import { CHANNEL_REQUEST_BUCKETS } from "./metric-buckets.ts";
import { outcomeOf } from "./outcome.ts";

type Inc = { inc(value?: number): void };

/**
 * The channel's metrics: requests by outcome and their latency, bytes each
 * way, refused frames. By default one set of series for all containers; with
 * `perContainer`, one per container, labelled with berth's container id (never
 * an owner's or a container's name).
 *
 * The hot path costs one call on a handle made when the channel opened: each
 * handle holds its prom-client children, made once per label set, so a
 * request does no label lookup of its own. The busiest series (answered
 * requests, their latency, bytes) are only added up in the handle, and handed
 * to prom-client by the metrics' `collect` when they are scraped: an
 * increment or observation through prom-client builds its series key every
 * time, which on a request of some 20 µs of berth's CPU was a cost to measure
 * (bench: metrics).
 */
export class ChannelMetrics implements ChannelObserver {
  readonly #requests: Counter<"outcome" | "container">;
  readonly #duration: Histogram<"container">;
  readonly #received: Counter<"container">;
  readonly #sent: Counter<"container">;
  readonly #refused: Counter<"code" | "container">;
  readonly #held: Counter<"container">;
  readonly #perContainer: boolean;
  readonly #handles = new Map<string, Handle>();
  #shared: Handle | undefined;

  constructor(registry: Registry, perContainer: boolean) {
    this.#perContainer = perContainer;
    const container = perContainer ? (["container"] as const) : [];
    const flush = (take: (handle: Handle) => void) => () => {
      if (this.#shared) take(this.#shared);
      for (const handle of this.#handles.values()) take(handle);
    };
    this.#requests = new CounterClass({
      name: "berth_channel_requests_total",
      help: "Requests berth sent to workloads over the channel, by outcome (ok or the error code).",
      labelNames: ["outcome", ...container],
      registers: [registry],
      collect: flush((handle) => handle.flushAnswered()),
    });
    this.#duration = new HistogramClass({
      name: "berth_channel_request_duration_seconds",
      help: "Time from sending a channel request to its answer, failure or timeout.",
      labelNames: [...container],
      buckets: CHANNEL_REQUEST_BUCKETS,
      registers: [registry],
      collect: flush((handle) => handle.latency.writeTo(this.#duration)),
    });
    this.#received = new CounterClass({
      name: "berth_channel_received_bytes_total",
      help: "Bytes read from workloads' channel sockets.",
      labelNames: [...container],
      registers: [registry],
      collect: flush((handle) => handle.flushReceived()),
    });
    this.#sent = new CounterClass({
      name: "berth_channel_sent_bytes_total",
      help: "Bytes of frames berth wrote to workloads' channel sockets.",
      labelNames: [...container],
      registers: [registry],
      collect: flush((handle) => handle.flushSent()),
    });
    this.#refused = new CounterClass({
      name: "berth_channel_frames_refused_total",
      help: "Frames from workloads that berth refused, by the protocol error it answered with.",
      labelNames: ["code", ...container],
      registers: [registry],
    });
    this.#held = new CounterClass({
      name: "berth_channel_held_seconds_total",
      help: "Time workloads' channel sockets were not read: the workload was over its budget of frames sent unasked.",
      labelNames: [...container],
      registers: [registry],
    });
  }

  forContainer(id: string): ContainerTraffic {
    if (!this.#perContainer) {
      this.#shared ??= new Handle(this.#series({}));
      return this.#shared;
    }
    let handle = this.#handles.get(id);
    if (handle === undefined) {
      handle = new Handle(this.#series({ container: id }));
      this.#handles.set(id, handle);
    }
    return handle;
  }

  /**
   * Drops a removed container's series (with `perContainer`) — deleted, or a create that failed and was
   * undone — so that they do not pile up for ever. The hub calls it when it closes the container's channel.
   */
  forget(id: string): void {
    const handle = this.#handles.get(id);
    if (handle === undefined) return;
    this.#handles.delete(id);
    const container = { container: id };
    for (const metric of [this.#duration, this.#received, this.#sent, this.#held]) metric.remove(container);
    for (const outcome of handle.outcomes()) this.#requests.remove({ outcome, ...container });
    for (const code of handle.codes()) this.#refused.remove({ code, ...container });
  }

  #series(labels: Record<string, string>): Series {
    return {
      requests: (outcome) => this.#requests.labels({ outcome, ...labels }),
      latency: new LatencyTally(CHANNEL_REQUEST_BUCKETS, labels),
      received: this.#received.labels(labels),
      sent: this.#sent.labels(labels),
      refused: (code) => this.#refused.labels({ code, ...labels }),
      held: this.#held.labels(labels),
    };
  }
}

interface Series {
  requests(outcome: string): Inc;
  latency: LatencyTally;
  received: Inc;
  sent: Inc;
  refused(code: string): Inc;
  held: Inc;
}

/** One channel's (or, by default, every channel's) children, made once per label set and then reused. */
class Handle implements ContainerTraffic {
  readonly #series: Series;
  readonly latency: LatencyTally;
  readonly #ok: Inc;
  readonly #outcomes = new Map<string, Inc>();
  readonly #codes = new Map<string, Inc>();
  /** Not yet handed to prom-client: added up here on the hot path, flushed at scrape time. */
  #answered = 0;
  #received = 0;
  #sent = 0;

  constructor(series: Series) {
    this.#series = series;
    this.latency = series.latency;
    this.#ok = series.requests("ok");
  }

  /** The outcomes this handle has counted (one series each). */
  outcomes(): string[] {
    return ["ok", ...this.#outcomes.keys()];
  }

  /** The refusal codes this handle has counted (one series each). */
  codes(): string[] {
    return [...this.#codes.keys()];
  }

  requestEnded(seconds: number, error: unknown): void {
    this.latency.observe(seconds);
    if (error === undefined) {
      this.#answered++;
      return;
    }
    const outcome = outcomeOf(error);
    let child = this.#outcomes.get(outcome);
    if (child === undefined) {
      child = this.#series.requests(outcome);
      this.#outcomes.set(outcome, child);
    }
    child.inc();
  }

  received(bytes: number): void {
    this.#received += bytes;
  }

  sent(bytes: number): void {
    this.#sent += bytes;
  }

  flushAnswered(): void {
    // Always, even by 0: the `ok` series is there from the first scrape.
    this.#ok.inc(this.#answered);
    this.#answered = 0;
  }

  flushReceived(): void {
    this.#series.received.inc(this.#received);
    this.#received = 0;
  }

  flushSent(): void {
    this.#series.sent.inc(this.#sent);
    this.#sent = 0;
  }

  /** Rare (a few a second at most, from a workload over its budget): counted straight away. */
  held(ms: number): void {
    this.#series.held.inc(ms / 1000);
  }

  frameRefused(code: ProtocolErrorCode): void {
    let child = this.#codes.get(code);
    if (child === undefined) {
      child = this.#series.refused(code);
      this.#codes.set(code, child);
    }
    child.inc();
  }
}
