import type { Config } from "../config/config.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import { RepeatedLog } from "../logging/repeated-log.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ChannelTally } from "../monitoring/channel-tally.ts";
import { engineTarget } from "../monitoring/engine-target.ts";
import { ForwardedProbe, type SampleWhereItRuns } from "../monitoring/forwarded-probe.ts";
import { isContainerGone, logHoldEvent } from "../monitoring/hold-event-log.ts";
import { NodeCgroupFs } from "../monitoring/node-cgroup-fs.ts";
import { PressureMonitor } from "../monitoring/pressure-monitor.ts";
import { StatsHistory } from "../monitoring/stats-history.ts";
import { StatsSampler } from "../monitoring/stats-sampler.ts";
import type { ContainerStore } from "../store/store-ports.ts";
import type { DisposalStack } from "./disposal-stack.ts";

export interface SamplingParts {
  pressure: PressureMonitor;
  sampler: StatsSampler;
  /** Every running container sampled at a low rate, always, so that a chart opens with a past. */
  history: StatsHistory;
}

/**
 * Resource sampling: the sampler (cgroup files, the engine as a fallback; in
 * cluster mode, the agent of each container's node, which does the same there),
 * the pressure monitor it feeds with each workload's channel traffic (output
 * holds set CPU limits through the engine), and the history behind the charts.
 */
export function buildSampling(
  config: Config,
  o: {
    docker: DockerClient;
    /**
     * Cluster mode: each container sampled by the agent of its node (RemoteUsage), never from this host's
     * cgroup files — the pid the engine reports is another host's. Absent: sampled here.
     */
    elsewhere?: SampleWhereItRuns | undefined;
    repo: ContainerStore;
    channelTally: ChannelTally;
    /** A running container's CPU limit, for the holds, which ask synchronously. */
    nanoCpusOf: (id: string) => number | undefined;
    log: SystemLogger;
  },
  stack: DisposalStack,
): SamplingParts {
  const { docker, channelTally, log } = o;
  const pressure = new PressureMonitor({
    outputRateLimit: config.outputRateLimit,
    messageRate: config.channelMessageRate,
    messageBytesRate: config.channelMessageBytesRate,
    nanoCpusOf: o.nanoCpusOf,
    setCpuLimit: (dockerId, nanoCpus) => docker.updateCpuLimit(dockerId, nanoCpus),
    // At least two samples of the history in a window, or a slow history would never judge output.
    outputWindowMs: Math.max(10_000, 2 * config.statsHistoryIntervalMs),
    isGone: isContainerGone,
    onHold: logHoldEvent(log.child({ component: "PressureMonitor" })),
  });
  stack.defer("pressure monitor", () => pressure.close());
  const samplerLog = log.child({ component: "StatsSampler" });
  const { elsewhere } = o;
  // A node away (its agent gone, its link cut) fails every sample of each of its workloads, the history's
  // every interval, until they are moved: in cluster mode once per workload, then counted once a minute.
  const repeated = elsewhere && new RepeatedLog(samplerLog);
  if (repeated) stack.defer("sampling failures' log", () => repeated.close());
  const failed = (containerId: string, err: unknown) =>
    repeated
      ? repeated.warn(`${containerId}:sampling`, { containerId }, { err }, "sampling failed")
      : samplerLog.warn({ containerId, err }, "sampling failed");
  const sampler = new StatsSampler({
    ...(elsewhere === undefined
      ? { fs: new NodeCgroupFs(), engine: { stats: (dockerId: string) => docker.containerStats(dockerId) } }
      : { probe: (key, target) => new ForwardedProbe(key, target, elsewhere) }),
    onSample: (id, sample) => {
      if (sample.pressure === undefined) return;
      const channel = channelTally.totals(id);
      pressure.observe(id, {
        ...sample.pressure,
        channelBytes: channel?.receivedBytes,
        channelRefused: channel?.refusedFrames,
        channelHolds: channel?.holds,
        channelHeldMs: channel?.heldMs,
      });
    },
    // Without an output limit, nobody reads the log files' sizes: not a stat() for them.
    ...(config.outputRateLimit > 0 ? {} : { fileSize: null }),
    onError: failed,
    onFallback: (containerId, cause) =>
      samplerLog.debug({ containerId, cause }, "sampling through the engine"),
  });
  stack.defer("stats sampler", () => sampler.close());
  const history = new StatsHistory({
    sampler,
    intervalMs: config.statsHistoryIntervalMs,
    target: (id) => engineTarget(docker, async () => (await o.repo.get(id))?.dockerId),
  });
  stack.defer("stats history", () => history.close());
  return { pressure, sampler, history };
}
