import { EventEmitter } from "node:events";
import { availableParallelism } from "node:os";
import { EpisodeGate } from "./episode-gate.ts";
import type { PressureKind, PressureReport } from "./pressure-report.ts";
import type { PressureReading } from "./resource-usage.ts";

export interface PressureMonitorOptions {
  /** The CPU limit a container is meant to have (its spec's), given back when a hold ends. */
  nanoCpusOf: (containerKey: string) => number | undefined;
  /** Changes a running container's CPU limit in place (the engine's container update). */
  setCpuLimit: (dockerId: string, nanoCpus: number) => Promise<void>;
  /**
   * Output above this many bytes/s over `outputWindowMs` is held back; 0 turns the limit off. A
   * workload sending more than this over its channel is told of too (a flood costs berth's CPU), not held.
   */
  outputRateLimit: number;
  /**
   * The channel's budget of frames and bytes a second a workload may send unasked (0: none), for the
   * report: a workload berth had to hold back to it is told of in the feed, with these numbers.
   */
  messageRate?: number;
  messageBytesRate?: number;
  /** How far back CPU throttling and refused processes are judged (default 30 s)… */
  windowMs?: number;
  /** …once the readings span at least this much (default 10 s): a first report need not wait 30 s. */
  minWindowMs?: number;
  /** The window an output rate is averaged over (default 10 s). */
  outputWindowMs?: number;
  /** A kind of pressure is reported again only after it has been absent this long (default 60 s). */
  quietMs?: number;
  /** Share of CPU periods throttled that counts as "held to its limit" (default 0.5). */
  throttledShare?: number;
  /** How long a workload over the output limit is held back (default 30 s), and to how much CPU (0.05). */
  holdMs?: number;
  heldCpus?: number;
  /**
   * Where a hold steps down to when the workload still writes over the limit at `heldCpus` (default
   * 0.01, the engine's least): output costs a workload little CPU per byte (measured here: a Node
   * workload printing lines as fast as it can still logs ~5 MiB/s at 0.05 CPU, ~1.3 MiB/s at 0.01).
   */
  leastCpus?: number;
  /**
   * The size at which the engine rotates a container's log file (berth creates containers with the
   * json-file driver's `max-size` of 10 MiB): a file that shrank was rotated, and the bytes written
   * before the rotation are counted up to it.
   */
  logMaxBytes?: number;
  /** A hold began or ended, or a CPU update failed: for the system log. */
  onHold?: (event: HoldEvent) => void;
}

export type HoldEvent =
  | { kind: "held" | "released"; containerKey: string; dockerId: string; nanoCpus: number }
  | { kind: "failed"; containerKey: string; dockerId: string; err: unknown };

export interface PressureMonitorEvents {
  report: [PressureReport];
}

interface Hold {
  dockerId: string;
  restoreNanoCpus: number;
  /** The limit it is held at now. */
  nanoCpus: number;
  /** When the hold began (monotonic ms of the reading that started it). */
  sinceMs: number;
  timer: NodeJS.Timeout;
}

interface Track {
  dockerId: string;
  /** The log file's size at the last reading: readings carry the total written, across rotations. */
  logSize: number | undefined;
  /** Readings of the last window, oldest first (the oldest is the base of every delta). */
  readings: PressureReading[];
  gates: Map<PressureKind, EpisodeGate>;
  hold: Hold | undefined;
  /** CPU throttling is not judged until then: a hold throttles the workload on purpose. */
  cpuQuietUntil: number;
}

/**
 * Judges the pressure counters every sample carries (StatsSampler's
 * `onSample`: no timer and no read of its own) and reports, once per episode
 * and container, what a limit did: CPU throttled, processes refused, output
 * over `outputRateLimit`. The engine's json-file log driver has no rate limit
 * of its own, and a workload printing as fast as it can costs the engine's
 * CPU, not its own; so one that stays over the limit is held back — its CPU
 * limit lowered in place to `heldCpus` for `holdMs` — then given its own
 * limit back. A hold left by a berth that died during it (the engine keeps
 * updated limits) is given back when the container is next seen.
 *
 * ```ts
 * const pressure = new PressureMonitor({ nanoCpusOf, setCpuLimit, outputRateLimit: 1 << 20 });
 * pressure.on("report", (r) => feed.record(describePressure(r, record)));
 * sampler = new StatsSampler({ …, onSample: (id, s) => s.pressure && pressure.observe(id, s.pressure) });
 * ```
 */
export class PressureMonitor extends EventEmitter<PressureMonitorEvents> {
  readonly #o: Required<Omit<PressureMonitorOptions, "onHold">> & Pick<PressureMonitorOptions, "onHold">;
  readonly #tracks = new Map<string, Track>();
  readonly #updates = new Set<Promise<void>>();
  #closed = false;

  constructor(options: PressureMonitorOptions) {
    super();
    this.#o = {
      windowMs: 30_000,
      minWindowMs: 10_000,
      outputWindowMs: 10_000,
      quietMs: 60_000,
      throttledShare: 0.5,
      holdMs: 30_000,
      heldCpus: 0.05,
      leastCpus: 0.01,
      logMaxBytes: 10 * 1024 * 1024,
      messageRate: 0,
      messageBytesRate: 0,
      ...options,
    };
  }

  /** How many containers are held back now. */
  get held(): number {
    let n = 0;
    for (const track of this.#tracks.values()) if (track.hold) n++;
    return n;
  }

  observe(containerKey: string, reading: PressureReading): void {
    if (this.#closed) return;
    let track = this.#tracks.get(containerKey);
    if (track === undefined || track.dockerId !== reading.dockerId) {
      if (track) this.#release(containerKey, track);
      track = {
        dockerId: reading.dockerId,
        logSize: undefined,
        readings: [],
        gates: new Map(),
        hold: undefined,
        cpuQuietUntil: 0,
      };
      this.#tracks.set(containerKey, track);
      this.#giveBackStaleHold(containerKey, reading);
    }
    const last = track.readings.at(-1);
    // A counter that went back belongs to a new cgroup (the container restarted): start over.
    if (last !== undefined && wentBack(last, reading)) track.readings = [];
    reading = { ...reading, outputBytes: this.#outputTotal(track, last, reading.outputBytes) };
    track.readings.push(reading);
    const now = reading.atMs;
    while (track.readings.length > 2 && now - track.readings[0]!.atMs > this.#o.windowMs)
      track.readings.shift();

    this.#judgeOutput(containerKey, track, reading);
    this.#judgeChannel(containerKey, track, reading);
    this.#judgeCpu(containerKey, track, reading);
    this.#judgePids(containerKey, track, reading);
  }

  /** The container stopped or went away: its readings are dropped and a hold is given back. */
  forget(containerKey: string): void {
    const track = this.#tracks.get(containerKey);
    if (track === undefined) return;
    this.#release(containerKey, track);
    this.#tracks.delete(containerKey);
  }

  /** Gives every hold back, forgets everything, and waits for the engine's answers. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const key of [...this.#tracks.keys()]) this.forget(key);
    await Promise.allSettled([...this.#updates]);
  }

  #judgeCpu(key: string, track: Track, now: PressureReading): void {
    if (track.hold || now.atMs < track.cpuQuietUntil) return;
    const base = track.readings[0]!;
    const spanMs = now.atMs - base.atMs;
    const periods = delta(base.cpuPeriods, now.cpuPeriods);
    const throttled = delta(base.cpuThrottledPeriods, now.cpuThrottledPeriods);
    if (spanMs < this.#o.minWindowMs || periods === undefined || throttled === undefined) return;
    // At least a second's worth of the default 100 ms periods, so that a blip is not a share.
    if (periods < 10 || throttled / periods < this.#o.throttledShare) return;
    if (!this.#gate(track, "cpu_throttled").active(now.atMs)) return;
    this.emit("report", {
      kind: "cpu_throttled",
      containerKey: key,
      cpus: now.nanoCpus === undefined ? undefined : now.nanoCpus / 1e9,
      throttledPercent: Math.round((throttled / periods) * 100),
      throttledMs: Math.round((delta(base.cpuThrottledUs, now.cpuThrottledUs) ?? 0) / 1000),
      windowMs: Math.round(spanMs),
    });
  }

  #judgePids(key: string, track: Track, now: PressureReading): void {
    const previous = track.readings.at(-2);
    if (previous === undefined || !(delta(previous.pidsLimitHits, now.pidsLimitHits)! > 0)) return;
    if (!this.#gate(track, "pids_limit").active(now.atMs)) return;
    const base = track.readings[0]!;
    this.emit("report", {
      kind: "pids_limit",
      containerKey: key,
      limit: now.pidsLimit,
      refused: delta(base.pidsLimitHits, now.pidsLimitHits) ?? 0,
      windowMs: Math.round(now.atMs - base.atMs),
    });
  }

  #judgeOutput(key: string, track: Track, now: PressureReading): void {
    if (this.#o.outputRateLimit <= 0) return;
    if (track.hold) {
      this.#stepDown(key, track.hold, track, now);
      return;
    }
    // The oldest reading within the window (plus a timer's lateness), as the base of the rate.
    const base = track.readings.find((r) => now.atMs - r.atMs <= this.#o.outputWindowMs * 1.2);
    if (base === undefined || base === now) return;
    const spanMs = now.atMs - base.atMs;
    const bytes = delta(base.outputBytes, now.outputBytes);
    // Nearly a full window: a burst of a few seconds is not a rate that "stays" over the limit.
    if (bytes === undefined || spanMs < this.#o.outputWindowMs * 0.8) return;
    const bytesPerSecond = (bytes * 1000) / spanMs;
    if (bytesPerSecond <= this.#o.outputRateLimit) return;
    this.#hold(key, track, now.atMs);
    if (!this.#gate(track, "output_rate_limited").active(now.atMs)) return;
    this.emit("report", {
      kind: "output_rate_limited",
      containerKey: key,
      bytes,
      windowMs: Math.round(spanMs),
      bytesPerSecond: Math.round(bytesPerSecond),
      limitBytesPerSecond: this.#o.outputRateLimit,
      heldCpus: this.#o.heldCpus,
      holdMs: this.#o.holdMs,
    });
  }

  /** Still over the limit at the held CPU, over half a window of the hold: hold harder (once). */
  /**
   * A workload sending over its channel faster than the output limit, sending frames berth refuses,
   * or held back to its budget of frames sent unasked (the channel does the holding; this tells of it).
   */
  #judgeChannel(key: string, track: Track, now: PressureReading): void {
    const base = track.readings.find((r) => now.atMs - r.atMs <= this.#o.outputWindowMs * 1.2);
    if (base === undefined || base === now) return;
    const spanMs = now.atMs - base.atMs;
    const bytes = delta(base.channelBytes, now.channelBytes);
    if (bytes === undefined || bytes < 0 || spanMs < this.#o.outputWindowMs * 0.8) return;
    const bytesPerSecond = (bytes * 1000) / spanMs;
    const refusedFrames = Math.max(0, delta(base.channelRefused, now.channelRefused) ?? 0);
    const holds = Math.max(0, delta(base.channelHolds, now.channelHolds) ?? 0);
    const heldMs = Math.max(0, delta(base.channelHeldMs, now.channelHeldMs) ?? 0);
    const overRate = this.#o.outputRateLimit > 0 && bytesPerSecond > this.#o.outputRateLimit;
    // A bad frame now and then is a bug the workload's own answers tell of; a hundred a window is a flood.
    if (!overRate && refusedFrames < 100 && holds === 0) return;
    if (!this.#gate(track, "channel_flooded").active(now.atMs)) return;
    this.emit("report", {
      kind: "channel_flooded",
      containerKey: key,
      bytes,
      windowMs: Math.round(spanMs),
      bytesPerSecond: Math.round(bytesPerSecond),
      limitBytesPerSecond: this.#o.outputRateLimit,
      refusedFrames,
      holds,
      heldMs: Math.round(heldMs),
      messageRate: this.#o.messageRate,
      messageBytesRate: this.#o.messageBytesRate,
    });
  }

  /**
   * The bytes written since berth began watching, from the log file's size: a file that shrank was
   * rotated at `logMaxBytes`, so what was written before is counted up to that size (a lower bound
   * when it rotated more than once between two readings: at 1 s readings, over 10 MiB/s).
   */
  #outputTotal(
    track: Track,
    last: PressureReading | undefined,
    size: number | undefined,
  ): number | undefined {
    const previous = track.logSize;
    track.logSize = size;
    if (size === undefined) return undefined;
    const before = last?.outputBytes;
    if (previous === undefined || before === undefined) return size;
    const grown = size >= previous ? size - previous : Math.max(0, this.#o.logMaxBytes - previous) + size;
    return before + grown;
  }

  #stepDown(key: string, hold: Hold, track: Track, now: PressureReading): void {
    const least = Math.round(this.#o.leastCpus * 1e9);
    if (hold.nanoCpus <= least) return;
    // Readings from a second into the hold on: the engine applies the update within milliseconds.
    const base = track.readings.find((r) => r.atMs >= hold.sinceMs + 1000);
    const bytes = base && delta(base.outputBytes, now.outputBytes);
    if (base === undefined || bytes === undefined || now.atMs - base.atMs < this.#o.outputWindowMs / 2)
      return;
    if ((bytes * 1000) / (now.atMs - base.atMs) <= this.#o.outputRateLimit) return;
    hold.nanoCpus = least;
    this.#setCpu(key, hold.dockerId, least, "held");
  }

  #hold(key: string, track: Track, atMs: number): void {
    const nanoCpus = Math.round(this.#o.heldCpus * 1e9);
    const restoreNanoCpus = this.#o.nanoCpusOf(key) ?? availableParallelism() * 1e9;
    const hold: Hold = {
      dockerId: track.dockerId,
      restoreNanoCpus,
      nanoCpus,
      sinceMs: atMs,
      timer: setTimeout(() => this.#release(key, track), this.#o.holdMs),
    };
    hold.timer.unref();
    track.hold = hold;
    this.#setCpu(key, hold.dockerId, nanoCpus, "held");
  }

  #release(key: string, track: Track): void {
    const hold = track.hold;
    if (hold === undefined) return;
    clearTimeout(hold.timer);
    track.hold = undefined;
    // The window still holds output from before the hold, and CPU throttled by it: judge afresh.
    track.readings = track.readings.slice(-1);
    track.cpuQuietUntil = (track.readings[0]?.atMs ?? 0) + this.#o.windowMs;
    this.#setCpu(key, hold.dockerId, hold.restoreNanoCpus, "released");
  }

  /** A container still at exactly the held limit when first seen was held by a berth that died: give it back. */
  #giveBackStaleHold(key: string, reading: PressureReading): void {
    const meant = this.#o.nanoCpusOf(key);
    const held = [this.#o.heldCpus, this.#o.leastCpus].map((cpus) => Math.round(cpus * 1e9));
    if (
      meant !== undefined &&
      reading.nanoCpus !== undefined &&
      held.includes(reading.nanoCpus) &&
      meant !== reading.nanoCpus
    )
      this.#setCpu(key, reading.dockerId, meant, "released");
  }

  #setCpu(key: string, dockerId: string, nanoCpus: number, kind: "held" | "released"): void {
    const update = this.#o
      .setCpuLimit(dockerId, nanoCpus)
      .then(
        () => this.#o.onHold?.({ kind, containerKey: key, dockerId, nanoCpus }),
        (err: unknown) => this.#o.onHold?.({ kind: "failed", containerKey: key, dockerId, err }),
      )
      .finally(() => this.#updates.delete(update));
    this.#updates.add(update);
  }

  #gate(track: Track, kind: PressureKind): EpisodeGate {
    let gate = track.gates.get(kind);
    if (gate === undefined) {
      gate = new EpisodeGate(this.#o.quietMs);
      track.gates.set(kind, gate);
    }
    return gate;
  }
}

function delta(from: number | undefined, to: number | undefined): number | undefined {
  return from === undefined || to === undefined ? undefined : to - from;
}

function wentBack(a: PressureReading, b: PressureReading): boolean {
  const back = (x: number | undefined, y: number | undefined) => x !== undefined && y !== undefined && y < x;
  // Not the log file's size: it shrinks when the json-file driver rotates it.
  return back(a.cpuPeriods, b.cpuPeriods) || back(a.pidsLimitHits, b.pidsLimitHits);
}
