import { totalmem } from "node:os";
import { ShuttingDownError } from "../errors/errors.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import type { CgroupFs } from "./cgroup-fs.ts";
import { CgroupReader } from "./cgroup-reader.ts";
import { ContainerProbe, type ProbeContext } from "./container-probe.ts";
import type { ContainerTarget } from "./container-target.ts";
import { DueTimers } from "./due-timers.ts";
import type { EngineStats } from "./engine-stats.ts";
import type { LogFileStat } from "./log-byte-counter.ts";
import type { ResourceSample } from "./resource-usage.ts";
import { statFile } from "./stat-file.ts";
import type { UsageProbe } from "./usage-probe.ts";

export type UsageListener = (sample: ResourceSample) => void;

/** Samples read on this host: a container's cgroup files, the engine's stats API as the fallback. */
interface LocalSampling {
  fs: CgroupFs;
  engine: EngineStats;
  probe?: never;
}

/**
 * Samples taken elsewhere (cluster mode: by the agent of the node a container runs on, ForwardedProbe):
 * `probe` makes the probe of each container, and nothing is read on this host.
 */
interface ForwardedSampling {
  probe: (containerKey: string, target: ContainerTarget) => UsageProbe;
  fs?: never;
  engine?: never;
}

export type StatsSamplerOptions = (LocalSampling | ForwardedSampling) & StatsSamplerTuning;

/** What every sampler may be given, wherever its samples are taken. */
export interface StatsSamplerTuning {
  clock?: Clock;
  monotonicMs?: () => number;
  /** Reported as the limit of a container without one (default: os.totalmem()). */
  hostMemoryBytes?: number;
  /** Bounds on the watch interval; requests outside are clamped (defaults 250 ms and 60 s). */
  minIntervalMs?: number;
  maxIntervalMs?: number;
  /** Gap between the two CPU readings of a container's first sample (default 100 ms). */
  baselineMs?: number;
  /** How long a container stays on the engine after its cgroup files failed (default 60 s). */
  cgroupRetryMs?: number;
  /** A scheduled sample failed or a listener threw; the watch goes on. */
  onError?: (containerKey: string, err: unknown) => void;
  /** A sample came from the engine because the cgroup files could not be used. */
  onFallback?: (containerKey: string, cause: unknown) => void;
  /**
   * Every sample taken, whoever asked for it: the PressureMonitor reads its pressure counters here,
   * so that judging pressure costs no timer and no read of its own. Must not throw (errors go to onError).
   */
  onSample?: (containerKey: string, sample: ResourceSample) => void;
  /**
   * The size and inode of a file (the engine's log file of a container); default: stat(). `null`
   * measures no output (the output limit is off): no stat() at all.
   */
  fileSize?: ((path: string) => Promise<LogFileStat | undefined>) | null;
}

interface Watcher {
  intervalMs: number;
  listener: UsageListener;
}

interface Entry {
  key: string;
  probe: UsageProbe;
  watchers: Set<Watcher>;
  inFlight: Promise<ResourceSample> | undefined;
  /** When the last scheduled sample started (monotonic ms); the next one is due an interval later. */
  lastTickAt: number;
  last: ResourceSample | undefined;
}

/**
 * Samples containers' resource usage, one sampler per container however many
 * clients watch it: the container is sampled at the smallest interval any
 * current watcher asked for, its timer stops when the last watcher leaves,
 * and samples of one container never overlap (a slow one delays the next).
 *
 * ```ts
 * const sampler = new StatsSampler({ fs: new NodeCgroupFs(), engine });
 * const stop = sampler.watch(id, { resolve: () => locate(id) }, 1000, (s) => emit(s.usage));
 * const now = await sampler.sampleOnce(id, { resolve: () => locate(id) });
 * stop();
 * await sampler.close();
 * ```
 */
export class StatsSampler {
  readonly #entries = new Map<string, Entry>();
  readonly #timers: DueTimers<Entry>;
  /** How a container's probe is made: on this host's cgroup files, or forwarded (ForwardedSampling). */
  readonly #probe: (key: string, target: ContainerTarget) => UsageProbe;
  readonly #clock: Clock;
  readonly #monotonicMs: () => number;
  readonly #minIntervalMs: number;
  readonly #maxIntervalMs: number;
  readonly #onError: (containerKey: string, err: unknown) => void;
  readonly #onFallback: (containerKey: string, cause: unknown) => void;
  readonly #onSample: (containerKey: string, sample: ResourceSample) => void;
  #closing: Promise<void> | undefined;

  constructor(options: StatsSamplerOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.#timers = new DueTimers(this.#monotonicMs);
    this.#minIntervalMs = options.minIntervalMs ?? 250;
    this.#maxIntervalMs = options.maxIntervalMs ?? 60_000;
    this.#onError = options.onError ?? (() => {});
    this.#onFallback = options.onFallback ?? (() => {});
    this.#onSample = options.onSample ?? (() => {});
    if (options.probe !== undefined) {
      this.#probe = options.probe;
      return;
    }
    const ctx: ProbeContext = {
      reader: new CgroupReader(options.fs, options.hostMemoryBytes ?? totalmem()),
      engine: options.engine,
      clock: this.#clock,
      monotonicMs: this.#monotonicMs,
      baselineMs: options.baselineMs ?? 100,
      cgroupRetryMs: options.cgroupRetryMs ?? 60_000,
      onFallback: () => {},
      fileSize: options.fileSize === null ? undefined : (options.fileSize ?? statFile),
    };
    this.#probe = (key, target) =>
      new ContainerProbe(target, { ...ctx, onFallback: (cause) => this.#onFallback(key, cause) });
  }

  /**
   * Delivers a sample of `containerKey` to `listener` about every `intervalMs`
   * (clamped to the sampler's bounds), the first as soon as it is taken. A
   * watcher joining a watched container gets the latest sample at once. The
   * first watcher's `target` serves the container; later ones are ignored.
   * Returns the unsubscribe function (safe to call twice).
   */
  watch(
    containerKey: string,
    target: ContainerTarget,
    intervalMs: number,
    listener: UsageListener,
  ): () => void {
    if (this.#closing !== undefined) throw new ShuttingDownError();
    const watcher: Watcher = { intervalMs: this.#clamp(intervalMs), listener };
    const entry = this.#entry(containerKey, target);
    const first = entry.watchers.size === 0;
    entry.watchers.add(watcher);
    if (!first && entry.last !== undefined) {
      const latest = entry.last;
      queueMicrotask(() => {
        if (entry.watchers.has(watcher) && this.#closing === undefined) this.#deliver(entry, watcher, latest);
      });
    }
    this.#schedule(entry);
    return () => {
      if (!entry.watchers.delete(watcher)) return;
      this.#schedule(entry);
      this.#dropIfIdle(entry);
    };
  }

  /**
   * One sample now, for `container:stats`. Joins a sample already under way for
   * the container instead of starting a second one.
   */
  async sampleOnce(containerKey: string, target: ContainerTarget): Promise<ResourceSample> {
    if (this.#closing !== undefined) throw new ShuttingDownError();
    const entry = this.#entry(containerKey, target);
    try {
      return await this.#run(entry);
    } finally {
      this.#dropIfIdle(entry);
    }
  }

  /** Forgets what is cached about the container (pid, open files, CPU baseline); call it after a restart. */
  invalidate(containerKey: string): void {
    this.#entries.get(containerKey)?.probe.invalidate();
  }

  /** Stops every timer and waits for samples under way; listeners hear nothing more. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const entries = [...this.#entries.values()];
      this.#entries.clear();
      this.#timers.clearAll();
      for (const entry of entries) entry.watchers.clear();
      await Promise.allSettled(entries.map((entry) => entry.inFlight));
      for (const entry of entries) entry.probe.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #entry(key: string, target: ContainerTarget): Entry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = {
        key,
        probe: this.#probe(key, target),
        watchers: new Set(),
        inFlight: undefined,
        lastTickAt: Number.NEGATIVE_INFINITY,
        last: undefined,
      };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** The one place a sample starts, so that two never run at once for a container. */
  #run(entry: Entry): Promise<ResourceSample> {
    if (entry.inFlight !== undefined) return entry.inFlight;
    const inFlight = entry.probe
      .sample()
      .then((sample) => {
        if (this.#closing === undefined) {
          try {
            this.#onSample(entry.key, sample);
          } catch (err) {
            this.#onError(entry.key, err);
          }
        }
        return sample;
      })
      .finally(() => {
        entry.inFlight = undefined;
        this.#schedule(entry);
        this.#dropIfIdle(entry);
      });
    entry.inFlight = inFlight;
    return inFlight;
  }

  /** (Re)arms the entry's timer for the next sample due, or leaves it off when nothing is due. */
  #schedule(entry: Entry): void {
    this.#timers.clear(entry);
    // While a sample runs, its completion schedules the next one.
    if (entry.watchers.size === 0 || entry.inFlight !== undefined || this.#closing !== undefined) return;
    let intervalMs = this.#maxIntervalMs;
    for (const watcher of entry.watchers) intervalMs = Math.min(intervalMs, watcher.intervalMs);
    // On a grid of the interval: every container watched at the same interval is sampled by the
    // same timer, not by a hundred timers spread over the second.
    // (A timer fires a little late, never early; a first tick just before a grid point skips it,
    // so that no two samples are much closer than half an interval.)
    let due = Math.floor(entry.lastTickAt / intervalMs) * intervalMs + intervalMs;
    if (due - entry.lastTickAt < intervalMs / 2) due += intervalMs;
    this.#timers.set(entry, Number.isFinite(due) ? due : this.#monotonicMs(), () => this.#tick(entry));
  }

  #tick(entry: Entry): void {
    entry.lastTickAt = this.#monotonicMs();
    this.#run(entry).then(
      (sample) => {
        entry.last = sample;
        if (this.#closing !== undefined) return;
        for (const watcher of [...entry.watchers]) this.#deliver(entry, watcher, sample);
      },
      (err: unknown) => {
        if (this.#closing === undefined) this.#onError(entry.key, err);
      },
    );
  }

  #deliver(entry: Entry, watcher: Watcher, sample: ResourceSample): void {
    try {
      watcher.listener(sample);
    } catch (err) {
      this.#onError(entry.key, err);
    }
  }

  /** Forgets a container nobody watches or asks about any more, closing its files. */
  #dropIfIdle(entry: Entry): void {
    if (entry.watchers.size > 0 || entry.inFlight !== undefined || this.#entries.get(entry.key) !== entry)
      return;
    this.#entries.delete(entry.key);
    entry.probe.close();
  }

  #clamp(intervalMs: number): number {
    if (!Number.isFinite(intervalMs))
      throw new RangeError(`interval must be a finite number of ms: ${intervalMs}`);
    return Math.min(this.#maxIntervalMs, Math.max(this.#minIntervalMs, intervalMs));
  }
}
