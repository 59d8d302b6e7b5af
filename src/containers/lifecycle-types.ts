import type { ContainerInfo, ContainerState } from "#protocol";
import type { AdmissionPort } from "../admission/admission.ts";
import type { ContainerLocks } from "../cluster/container-locks.ts";
import type { Config } from "../config/config.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { SecretRegistry } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerStore, ReleaseContentStore, ReleaseStore } from "../store/store-ports.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import type { ClusterNetworks } from "./cluster-networks.ts";
import type { ContainerChangeNotices } from "./container-owners.ts";
import type { EgressGuard } from "./egress-guard.ts";
import type { ImageCatalog } from "./image-catalog.ts";
import type { OperationOutcome } from "./operation-tracker.ts";
import type { UidClaims } from "./uid-claims.ts";
import type { WorkloadChannel } from "./workload-channel.ts";
import type { WorkloadPlacement } from "./workload-placement.ts";

export interface ContainerManagerOptions {
  config: Config;
  docker: DockerClient;
  repo: ContainerStore;
  releases: ReleaseStore;
  channel: WorkloadChannel;
  /** Where each container's secrets are registered, for its owner's redactor and the system log's. */
  secrets: SecretRegistry;
  log: SystemLogger;
  instanceId: string;
  /** The workload's code and socket directories on the host it runs on. */
  files: WorkloadFiles;
  /** Quotas and the fair engine queue; none when left out. */
  admission?: AdmissionPort;
  /** Filters what `network: 'outbound'` containers can reach; consulted before each of them starts. */
  egress: EgressGuard;
  /** Whether the engine has an image, and what it runs by default; one over `docker` when left out. */
  images?: ImageCatalog;
  /**
   * The uids this berth hands out, shared with the image checks (their
   * throwaway containers run as a uid of their own); one of its own when left out.
   */
  uids?: UidClaims;
  /**
   * How long an exit by SIGKILL (137) that the engine does not (yet) call an OOM kill is given for the
   * engine's flag to arrive (LATE_OOM_FLAG_WAIT_MS when left out; see engine-sync.ts).
   */
  oomFlagWaitMs?: number;
  /**
   * Cluster mode: every operation's turn on a container also holds that container's lock across the API
   * servers sharing the database (PgContainerLocks); none when left out — one server's queue is enough.
   */
  locks?: ContainerLocks;
  /** Cluster mode: puts each new workload on a node before its files and container are made there. */
  placement?: WorkloadPlacement;
  /**
   * PostgreSQL: the store's notices of containers made, removed or changing state (PgChangeNotices "states"),
   * by which each container's owner is kept in memory for the hot calls (`reach`). None with SQLite: its read
   * of a row costs less than keeping one.
   */
  changes?: ContainerChangeNotices;
  /** Cluster mode: each owner's network made, filtered and removed on its workloads' nodes by their agents. */
  networks?: ClusterNetworks;
  /** Cluster mode: where each release's contents are kept for the nodes a workload may move to (release-content.ts). */
  releaseContents?: ReleaseContentStore;
}

export interface StatusChange {
  info: ContainerInfo;
  /** "new" for a container that did not exist before. */
  from: ContainerState | "new";
  reason: string;
  /** Set when the engine killed the workload for using more memory than its limit. */
  oomKilled?: boolean;
}

export interface ContainerManagerEvents {
  statusChanged: [StatusChange];
  operation: [OperationOutcome];
}

/** How the workload last ended, as the engine tells (ContainerManager.syncFromEngine). */
export interface EngineExit {
  exitCode: number;
  oomKilled: boolean;
  /** When it ended; undefined when the engine does not say. */
  finishedAt: number | undefined;
}

export interface StartOptions {
  waitReady?: boolean;
  /**
   * The restart policy's start after an exit: counted in `restartCount` (a client's start is not).
   * It starts only a container still `exited` or `failed` when its turn comes, and otherwise
   * answers the container as it is, not started (an owner's stop queued before it stands).
   */
  restart?: boolean;
}

export interface StopOptions {
  timeoutSec?: number;
}
