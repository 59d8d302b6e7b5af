/** Where a container runs right now, from the engine's inspect. */
export interface ContainerLocation {
  dockerId: string;
  /** `State.Pid`: the main process as the host sees it; 0 when the container is not running. */
  pid: number;
  /**
   * The engine's log file of the container (`LogPath`; json-file and local drivers), whose size
   * growth is the workload's output rate; absent for drivers that keep no file on this host.
   */
  logPath?: string | undefined;
  /** `HostConfig.NanoCpus` and `HostConfig.PidsLimit`: the limits a pressure report names. */
  nanoCpus?: number | undefined;
  pidsLimit?: number | undefined;
}

/**
 * How the sampler finds a container. Called on the first sample and again
 * only when the cached answer went stale (a read failed with ENOENT, the CPU
 * counter went backwards, or `invalidate` was called) — not on every sample,
 * as an inspect costs the engine a request. Rejects with berth's errors
 * (e.g. NotFoundError) when the container is gone.
 */
export interface ContainerTarget {
  resolve(): Promise<ContainerLocation>;
}
