import type { SystemLogger } from "./system-logger.ts";

type Level = "debug" | "info" | "warn" | "error";
type Fields = Record<string, unknown>;

interface Entry {
  level: Level;
  msg: string;
  context: Fields;
  /** Occurrences since the last line written for this key… */
  repeats: number;
  /** …which was written then (epoch ms). */
  since: number;
}

export interface RepeatedLogOptions {
  /** How often a summary of the repeats is written (default 60 s). */
  intervalMs?: number;
  /** Keys remembered at once (default 10,000); beyond, repeats are counted in one shared line. */
  maxKeys?: number;
}

const OVERFLOW = "\u0000overflow";

/**
 * Log once, then count: for events a workload can cause at will (reconnects,
 * bad frames, refused handshakes, health flaps), the first occurrence of a
 * key (e.g. `<containerId>:bad_frame`) is logged in full; repeats are only
 * counted, and once per interval one summary line says how many there were.
 * A key that stayed quiet for a whole interval is forgotten, so its next
 * occurrence is logged in full again. So each key costs the system log at
 * most two lines per interval, whatever the workload does, and memory is
 * bounded by `maxKeys`.
 *
 * @example
 *   const repeated = new RepeatedLog(log, { intervalMs: 60_000 });
 *   repeated.warn(`${id}:bad_frame`, { containerId: id }, { code, bytes }, "dropped bad frame");
 *   //   → one line now; within a minute: {"containerId":…,"repeated":9999,"overMs":…} "dropped bad frame (repeated)"
 */
export class RepeatedLog {
  readonly #log: SystemLogger;
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout | undefined;

  constructor(log: SystemLogger, options: RepeatedLogOptions = {}) {
    this.#log = log;
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  debug(key: string, context: Fields, details: Fields, msg: string): void {
    this.#event("debug", key, context, details, msg);
  }

  info(key: string, context: Fields, details: Fields, msg: string): void {
    this.#event("info", key, context, details, msg);
  }

  warn(key: string, context: Fields, details: Fields, msg: string): void {
    this.#event("warn", key, context, details, msg);
  }

  /** Writes the summaries due and forgets every key (at shutdown, or in tests). */
  flush(): void {
    for (const entry of this.#entries.values()) this.#summarise(entry);
    this.#entries.clear();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.flush();
  }

  #event(level: Level, key: string, context: Fields, details: Fields, msg: string): void {
    if (!this.#log.isLevelEnabled(level)) return;
    const entry = this.#entries.get(key);
    if (entry) {
      entry.repeats++;
      return;
    }
    if (this.#entries.size >= this.#maxKeys) {
      const overflow = this.#entries.get(OVERFLOW);
      if (overflow) overflow.repeats++;
      else
        this.#remember(OVERFLOW, {
          level: "warn",
          msg: "repeated events of too many sources",
          context: {},
          repeats: 1,
          since: Date.now(),
        });
      return;
    }
    this.#log[level]({ ...context, ...details }, msg);
    this.#remember(key, { level, msg, context, repeats: 0, since: Date.now() });
  }

  #remember(key: string, entry: Entry): void {
    this.#entries.set(key, entry);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  #tick(): void {
    for (const [key, entry] of this.#entries) {
      if (entry.repeats === 0) this.#entries.delete(key);
      else this.#summarise(entry);
    }
    if (this.#entries.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #summarise(entry: Entry): void {
    if (entry.repeats === 0) return;
    const now = Date.now();
    this.#log[entry.level](
      { ...entry.context, repeated: entry.repeats, overMs: now - entry.since },
      `${entry.msg} (repeated)`,
    );
    entry.repeats = 0;
    entry.since = now;
  }
}
