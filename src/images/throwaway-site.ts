import type { ChannelPort } from "../channel/channel-port.ts";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import type { Config } from "../config/config.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";

/**
 * Where an image check's throwaway container runs, and the ports that reach
 * it there. On one host: berth's own engine, files and a channel hub (this
 * file's LocalThrowawaySite). In a cluster: a node chosen as a create's
 * would be, reached through its agent (node-agents/remote-throwaways.ts),
 * which is why a check is placed before anything is made for it and ended
 * after its clean-up.
 */
export interface ThrowawaySite {
  /** The engine the image is inspected on and the throwaway made on (by its id's placement, in a cluster). */
  readonly docker: DockerClient;
  readonly files: WorkloadFiles;
  /** Chooses where check `id` runs: nothing can be made for it before. */
  place(id: string): Promise<void>;
  /** A channel hub of the check's own: the check's events must not reach the services that follow real containers. */
  channel(log: SystemLogger): ChannelPort;
  /** Whether the place check `id` runs on can still be reached (a cluster: its node's agent is connected). */
  reachable(id: string): boolean;
  /**
   * The check is over and its clean-up ran; `leftOver`: some of it could not be done (its node's agent
   * was away), and the site finishes it when it can. Its placement ends with the clean-up.
   */
  end(id: string, leftOver: boolean): void;
}

/** One host's: berth's own engine and files, and a hub on its own run directory. */
export class LocalThrowawaySite implements ThrowawaySite {
  readonly docker: DockerClient;
  readonly files: WorkloadFiles;
  readonly #config: Config;

  constructor(config: Config, docker: DockerClient, files: WorkloadFiles) {
    this.#config = config;
    this.docker = docker;
    this.files = files;
  }

  async place(): Promise<void> {}

  channel(log: SystemLogger): ChannelPort {
    return new SocketCommunicationHandler({
      runDir: this.#config.runDir,
      maxFrameBytes: this.#config.maxFrameBytes,
      maxRequestTimeoutMs: this.#config.maxRequestTimeoutMs,
      log,
    });
  }

  reachable(): boolean {
    return true;
  }

  // One host's clean-up is its own engine's and disk's: what it could not do is the next reconciliation's.
  end(): void {}
}
