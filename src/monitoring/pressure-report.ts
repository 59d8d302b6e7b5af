/**
 * What a container's limits did to it, as the PressureMonitor tells it: one
 * report per episode, with the numbers the feed shows. `containerKey` is
 * berth's container id.
 */
export type PressureReport =
  | {
      kind: "cpu_throttled";
      containerKey: string;
      /** The CPU limit in cores (undefined when the engine reported none). */
      cpus: number | undefined;
      /** Share of CPU periods in which the quota ran out, 0–100. */
      throttledPercent: number;
      /** Time spent throttled over the window, summed over the container's threads' periods. */
      throttledMs: number;
      windowMs: number;
    }
  | {
      kind: "pids_limit";
      containerKey: string;
      limit: number | undefined;
      /** Processes it ran at the reading (well under `limit`: a parent cgroup's limit refused them). */
      current: number | undefined;
      /** fork()s and clone()s the limit refused over the window. */
      refused: number;
      windowMs: number;
    }
  | {
      kind: "channel_flooded";
      containerKey: string;
      /** Bytes the workload sent over its channel over the window, the rate, and the rate that counts as a flood. */
      bytes: number;
      windowMs: number;
      bytesPerSecond: number;
      limitBytesPerSecond: number;
      /** Frames berth refused over the window (malformed, too large, too deep). */
      refusedFrames: number;
      /**
       * Times berth stopped reading the channel over the window because the workload was over its
       * budget of frames sent unasked, how long it was held in all, and that budget (0: no limit).
       */
      holds: number;
      heldMs: number;
      messageRate: number;
      messageBytesRate: number;
    }
  | {
      kind: "output_rate_limited";
      containerKey: string;
      /** Bytes the engine logged over the window, and the rate that makes. */
      bytes: number;
      windowMs: number;
      bytesPerSecond: number;
      limitBytesPerSecond: number;
      /**
       * The CPU it is held to meanwhile, in cores, and for how long; a hold never raises a limit, so a
       * workload whose own limit is already at or below the hold's is not held: its own, for 0 ms.
       */
      heldCpus: number;
      holdMs: number;
    };

export type PressureKind = PressureReport["kind"];
