import { EventEmitter } from "node:events";
import { heldNanoCpus, OutputHolds } from "./output-holds.ts";
import type { PressureMonitorOptions } from "./pressure-monitor-options.ts";
import type { PressureReport } from "./pressure-report.ts";
import { delta, PressureTrack } from "./pressure-track.ts";
import type { PressureReading } from "./resource-usage.ts";

export interface PressureMonitorEvents {
  report: [PressureReport];
}

type Settings = Required<Omit<PressureMonitorOptions, "onHold" | "isGone">>;

/**
 * Judges the pressure counters every sample carries (StatsSampler's
 * `onSample`: no timer and no read of its own) and reports, once per episode
 * and container, what a limit did: CPU throttled, processes refused, output
 * over `outputRateLimit`. The engine's json-file log driver has no rate limit
 * of its own, and a workload printing as fast as it can costs the engine's
 * CPU, not its own; so one that stays over the limit is held back — its CPU
 * limit lowered in place to `heldCpus` for `holdMs` — then given its own
 * limit back (OutputHolds). A hold left by a berth that died during it (the
 * engine keeps updated limits) is given back when the container is next seen.
 *
 * ```ts
 * const pressure = new PressureMonitor({ nanoCpusOf, setCpuLimit, outputRateLimit: 1 << 20 });
 * pressure.on("report", (r) => feed.record(describePressure(r, record)));
 * sampler = new StatsSampler({ …, onSample: (id, s) => s.pressure && pressure.observe(id, s.pressure) });
 * ```
 */
export class PressureMonitor extends EventEmitter<PressureMonitorEvents> {
  readonly #settings: Settings;
  readonly #tracks = new Map<string, PressureTrack>();
  readonly #holds: OutputHolds;
  #closed = false;

  constructor(options: PressureMonitorOptions) {
    super();
    const { onHold, isGone, ...rest } = options;
    this.#settings = {
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
      ...rest,
    };
    const s = this.#settings;
    this.#holds = new OutputHolds({
      nanoCpusOf: s.nanoCpusOf,
      setCpuLimit: s.setCpuLimit,
      holdMs: s.holdMs,
      heldCpus: s.heldCpus,
      leastCpus: s.leastCpus,
      onEnded: (key) => this.#afterHold(key),
      ...(isGone ? { isGone } : {}),
      ...(onHold ? { onHold } : {}),
    });
  }

  /** How many containers are held back now. */
  get held(): number {
    return this.#holds.held;
  }

  /** Whether the container is held back now (by this berth). */
  isHeld(containerKey: string): boolean {
    return this.#holds.of(containerKey) !== undefined;
  }

  /** The CPU limits a hold sets, in nano-CPUs: a container found at one may carry a hold left behind. */
  get heldNanoCpus(): number[] {
    return heldNanoCpus(this.#settings);
  }

  /** How many given-back limits the engine has not taken yet (they are retried at each sample). */
  get pendingRestores(): number {
    return this.#holds.pendingRestores;
  }

  observe(containerKey: string, reading: PressureReading): void {
    if (this.#closed) return;
    let track = this.#tracks.get(containerKey);
    if (track === undefined || track.dockerId !== reading.dockerId) {
      if (track) this.#holds.release(containerKey);
      track = new PressureTrack(reading.dockerId, this.#settings.logMaxBytes, this.#settings.quietMs);
      this.#tracks.set(containerKey, track);
      this.#holds.giveBackLeftover(containerKey, reading.dockerId, reading.nanoCpus);
    }
    this.#holds.retry(containerKey, reading.dockerId);
    const keepMs = Math.max(this.#settings.windowMs, this.#settings.outputWindowMs * 1.2);
    reading = track.add(reading, keepMs);

    this.#judgeOutput(containerKey, track, reading);
    this.#judgeChannel(containerKey, track, reading);
    this.#judgeCpu(containerKey, track, reading);
    this.#judgePids(containerKey, track, reading);
  }

  /** The container stopped or went away: its readings are dropped and a hold is given back. */
  forget(containerKey: string): void {
    this.#holds.release(containerKey);
    this.#tracks.delete(containerKey);
  }

  /** Gives every hold back, forgets everything, and waits for the engine's answers. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#tracks.clear();
    await this.#holds.close();
  }

  #judgeCpu(key: string, track: PressureTrack, now: PressureReading): void {
    if (this.#holds.of(key) || now.atMs < track.cpuQuietUntil) return;
    const base = track.readings[0]!;
    const spanMs = now.atMs - base.atMs;
    const periods = delta(base.cpuPeriods, now.cpuPeriods);
    const throttled = delta(base.cpuThrottledPeriods, now.cpuThrottledPeriods);
    if (spanMs < this.#settings.minWindowMs || periods === undefined || throttled === undefined) return;
    // At least a second's worth of the default 100 ms periods, so that a blip is not a share.
    if (periods < 10 || throttled / periods < this.#settings.throttledShare) return;
    if (!track.gate("cpu_throttled").active(now.atMs)) return;
    this.emit("report", {
      kind: "cpu_throttled",
      containerKey: key,
      cpus: now.nanoCpus === undefined ? undefined : now.nanoCpus / 1e9,
      throttledPercent: Math.round((throttled / periods) * 100),
      throttledMs: Math.round((delta(base.cpuThrottledUs, now.cpuThrottledUs) ?? 0) / 1000),
      windowMs: Math.round(spanMs),
    });
  }

  #judgePids(key: string, track: PressureTrack, now: PressureReading): void {
    const previous = track.readings.at(-2);
    if (previous === undefined || (delta(previous.pidsLimitHits, now.pidsLimitHits) ?? 0) <= 0) return;
    if (!track.gate("pids_limit").active(now.atMs)) return;
    const base = track.readings[0]!;
    this.emit("report", {
      kind: "pids_limit",
      containerKey: key,
      limit: now.pidsLimit,
      current: now.pidsCurrent,
      refused: delta(base.pidsLimitHits, now.pidsLimitHits) ?? 0,
      windowMs: Math.round(now.atMs - base.atMs),
    });
  }

  #judgeOutput(key: string, track: PressureTrack, now: PressureReading): void {
    const { outputRateLimit, outputWindowMs, holdMs } = this.#settings;
    if (outputRateLimit <= 0) return;
    const hold = this.#holds.of(key);
    if (hold) {
      // Still over the limit at the held CPU, over half a window of the hold: hold harder (once).
      // Readings from a second into the hold on: the engine applies the update within milliseconds.
      const rate = track.rateSince(
        now,
        (r) => r.atMs >= hold.sinceMs + 1000,
        (r) => r.outputBytes,
      );
      if (rate && rate.spanMs >= outputWindowMs / 2 && rate.bytesPerSecond > outputRateLimit)
        this.#holds.stepDown(key);
      return;
    }
    // The oldest reading within the window (plus a timer's lateness), as the base of the rate.
    const rate = track.rateSince(
      now,
      (r) => now.atMs - r.atMs <= outputWindowMs * 1.2,
      (r) => r.outputBytes,
    );
    // Nearly a full window: a burst of a few seconds is not a rate that "stays" over the limit.
    if (rate === undefined || rate.spanMs < outputWindowMs * 0.8 || rate.bytesPerSecond <= outputRateLimit)
      return;
    const heldCpus = this.#holds.hold(key, track.dockerId, now.atMs);
    if (!track.gate("output_rate_limited").active(now.atMs)) return;
    this.emit("report", {
      kind: "output_rate_limited",
      containerKey: key,
      bytes: rate.bytes,
      windowMs: Math.round(rate.spanMs),
      bytesPerSecond: Math.round(rate.bytesPerSecond),
      limitBytesPerSecond: outputRateLimit,
      heldCpus,
      holdMs: this.#holds.of(key) ? holdMs : 0,
    });
  }

  /**
   * A workload sending over its channel faster than the output limit, sending frames berth refuses,
   * or held back to its budget of frames sent unasked (the channel does the holding; this tells of it).
   */
  #judgeChannel(key: string, track: PressureTrack, now: PressureReading): void {
    const base = track.readings.find((r) => now.atMs - r.atMs <= this.#settings.outputWindowMs * 1.2);
    if (base === undefined || base === now) return;
    const spanMs = now.atMs - base.atMs;
    const bytes = delta(base.channelBytes, now.channelBytes);
    if (bytes === undefined || bytes < 0 || spanMs < this.#settings.outputWindowMs * 0.8) return;
    const bytesPerSecond = (bytes * 1000) / spanMs;
    const refusedFrames = Math.max(0, delta(base.channelRefused, now.channelRefused) ?? 0);
    const holds = Math.max(0, delta(base.channelHolds, now.channelHolds) ?? 0);
    const heldMs = Math.max(0, delta(base.channelHeldMs, now.channelHeldMs) ?? 0);
    const overRate = this.#settings.outputRateLimit > 0 && bytesPerSecond > this.#settings.outputRateLimit;
    // A bad frame now and then is a bug the workload's own answers tell of; a hundred a window is a flood.
    if (!overRate && refusedFrames < 100 && holds === 0) return;
    if (!track.gate("channel_flooded").active(now.atMs)) return;
    this.emit("report", {
      kind: "channel_flooded",
      containerKey: key,
      bytes,
      windowMs: Math.round(spanMs),
      bytesPerSecond: Math.round(bytesPerSecond),
      limitBytesPerSecond: this.#settings.outputRateLimit,
      refusedFrames,
      holds,
      heldMs: Math.round(heldMs),
      messageRate: this.#settings.messageRate,
      messageBytesRate: this.#settings.messageBytesRate,
    });
  }

  /** A hold ended by its timer: judge the container afresh. */
  #afterHold(key: string): void {
    this.#tracks.get(key)?.startAfresh(this.#settings.windowMs);
  }
}
