import type { CallOptions } from "./call-options.ts";
import type { ClientStreams } from "./client-streams.ts";
import { OVERVIEW_KEY } from "./client-streams.ts";
import type { StreamIterator, StreamOptions } from "./container.ts";
import type { StatsHistoryOverview, StatsOverviewEvent } from "./protocol/index.ts";

/** `client.stats`: resource usage across the caller's containers. */
export class Stats {
  readonly #streams: ClientStreams;

  constructor(streams: ClientStreams) {
    this.#streams = streams;
  }

  /**
   * Every `intervalMs` (default 1000), the samples of every running
   * container the caller may see, until `break`/`return()` or the client
   * closes; resumes after a reconnect.
   *
   * @example
   *   for await (const tick of berth.stats.watchAll({ intervalMs: 2000 })) console.log(tick.samples.length);
   */
  watchAll(options: { intervalMs?: number } & StreamOptions = {}): StreamIterator<StatsOverviewEvent> {
    const { intervalMs, bufferSize } = options;
    return this.#streams.overview.open(
      OVERVIEW_KEY,
      intervalMs === undefined ? {} : { intervalMs },
      bufferSize,
    );
  }

  /**
   * The last 10 minutes of samples of every running container the caller may
   * see (at most 100 containers; `truncated` when more run), oldest first: the
   * past of an overview's sparklines, before `watchAll` brings more.
   *
   * @example
   *   const { containers } = await berth.stats.history();
   *   for (const c of containers) console.log(c.id, c.samples.map((s) => s.cpuPercent));
   */
  history(options: CallOptions = {}): Promise<StatsHistoryOverview> {
    return this.#streams.core.call("containers:stats_history", {}, options);
  }
}
