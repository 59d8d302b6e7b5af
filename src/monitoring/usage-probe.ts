import type { ResourceSample } from "./resource-usage.ts";

/**
 * How the sampler samples one container: ContainerProbe reads its cgroup
 * files on this host; ForwardedProbe asks the node agent of the node it runs
 * on (cluster mode). The sampler never overlaps two calls of one probe.
 */
export interface UsageProbe {
  sample(): Promise<ResourceSample>;
  /** Forgets what it keeps of the container (pid, open files, CPU baseline) before the next sample. */
  invalidate(): void;
  /** Lets go of what it holds; called when no sample is under way. Idempotent. */
  close(): void;
}
