import { EpisodeGate } from "./episode-gate.ts";
import { LogByteCounter } from "./log-byte-counter.ts";
import type { PressureKind } from "./pressure-report.ts";
import type { PressureReading } from "./resource-usage.ts";

/**
 * What PressureMonitor keeps of one container: the readings of the last
 * window (oldest first: the oldest is the base of every delta), the output
 * counted across the log's rotations, one EpisodeGate per kind of pressure,
 * and when CPU throttling may be judged again after a hold.
 */
export class PressureTrack {
  readonly dockerId: string;
  /** Readings carry the total the workload wrote across the log's rotations, counted here. */
  readonly #logBytes: LogByteCounter;
  readonly #gates = new Map<PressureKind, EpisodeGate>();
  readonly #quietMs: number;
  #readings: PressureReading[] = [];
  /** CPU throttling is not judged until then: a hold throttles the workload on purpose. */
  cpuQuietUntil = 0;

  constructor(dockerId: string, logMaxBytes: number, quietMs: number) {
    this.dockerId = dockerId;
    this.#logBytes = new LogByteCounter(logMaxBytes);
    this.#quietMs = quietMs;
  }

  get readings(): readonly PressureReading[] {
    return this.#readings;
  }

  /**
   * Adds a reading, its output counted across rotations, and drops those older than `keepMs` (keeping two
   * at least); returns the reading as kept.
   */
  add(reading: PressureReading, keepMs: number): PressureReading {
    const last = this.#readings.at(-1);
    // A counter that went back belongs to a new cgroup (the container restarted): start over.
    if (last !== undefined && wentBack(last, reading)) this.#readings = [];
    const kept = { ...reading, outputBytes: this.#logBytes.count(reading.outputBytes, reading.outputInode) };
    this.#readings.push(kept);
    const now = kept.atMs;
    while (this.#readings.length > 2 && now - this.#readings[0]!.atMs > keepMs) this.#readings.shift();
    return kept;
  }

  /** A hold ended: the window still holds output from before it, and CPU throttled by it; judge afresh. */
  startAfresh(windowMs: number): void {
    this.#readings = this.#readings.slice(-1);
    this.cpuQuietUntil = (this.#readings[0]?.atMs ?? 0) + windowMs;
  }

  /** The gate that tells a new episode of `kind` from one going on. */
  gate(kind: PressureKind): EpisodeGate {
    let gate = this.#gates.get(kind);
    if (gate === undefined) {
      gate = new EpisodeGate(this.#quietMs);
      this.#gates.set(kind, gate);
    }
    return gate;
  }

  /** The rate of `pick`'s counter from the first reading `from` accepts to `now`; undefined without two. */
  rateSince(
    now: PressureReading,
    from: (r: PressureReading) => boolean,
    pick: (r: PressureReading) => number | undefined,
  ): { bytes: number; spanMs: number; bytesPerSecond: number } | undefined {
    const base = this.#readings.find(from);
    if (base === undefined || base === now) return undefined;
    const bytes = delta(pick(base), pick(now));
    const spanMs = now.atMs - base.atMs;
    return bytes === undefined ? undefined : { bytes, spanMs, bytesPerSecond: (bytes * 1000) / spanMs };
  }
}

/** How much a counter grew between two readings; undefined when either lacks it. */
export function delta(from: number | undefined, to: number | undefined): number | undefined {
  return from === undefined || to === undefined ? undefined : to - from;
}

function wentBack(a: PressureReading, b: PressureReading): boolean {
  const back = (x: number | undefined, y: number | undefined) => x !== undefined && y !== undefined && y < x;
  // Not the log file's size: it shrinks when the json-file driver rotates it.
  return back(a.cpuPeriods, b.cpuPeriods) || back(a.pidsLimitHits, b.pidsLimitHits);
}
