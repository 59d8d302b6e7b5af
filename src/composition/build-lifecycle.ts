import type { EngineAdmission } from "../admission/engine-admission.ts";
import type { ChannelPort } from "../channel/channel-port.ts";
import type { ContainerLocks } from "../cluster/container-locks.ts";
import type { Config } from "../config/config.ts";
import type { ClusterNetworks } from "../containers/cluster-networks.ts";
import { ContainerManager } from "../containers/container-manager.ts";
import type { ContainerChangeNotices } from "../containers/container-owners.ts";
import type { ImageCatalog } from "../containers/image-catalog.ts";
import { UidClaims } from "../containers/uid-claims.ts";
import type { WorkloadPlacement } from "../containers/workload-placement.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import { ImageChecker } from "../images/image-checker.ts";
import type { ThrowawaySite } from "../images/throwaway-site.ts";
import type { SecretRegistry } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { EgressFirewall } from "../network/egress-firewall.ts";
import type { Store } from "../store/store-ports.ts";
import { CodeUpdater } from "../updates/code-updater.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";

export interface LifecycleParts {
  manager: ContainerManager;
  /** Throwaway containers that check an image (`image:check`). */
  imageChecker: ImageChecker;
  updater: CodeUpdater;
}

export interface LifecycleDeps {
  docker: DockerClient;
  images: ImageCatalog;
  store: Store;
  channel: ChannelPort;
  secrets: SecretRegistry;
  log: SystemLogger;
  instanceId: string;
  files: WorkloadFiles;
  admission: EngineAdmission;
  egress: EgressFirewall;
  /** Cluster mode: where each new workload is placed (build-cluster.ts). */
  placement?: WorkloadPlacement | undefined;
  /** Cluster mode: each container's turns held across the API servers (PgContainerLocks). */
  locks?: ContainerLocks | undefined;
  /** PostgreSQL: the store's notices of container changes, by which owners are kept in memory (openBase). */
  changes?: ContainerChangeNotices | undefined;
  /** Cluster mode: where image checks run (a node placed for each, reached through its agent). */
  checks?: ThrowawaySite | undefined;
  /** Cluster mode: owner networks made and filtered on their nodes by the nodes' agents (RemoteNetworks). */
  networks?: ClusterNetworks | undefined;
}

/**
 * The container lifecycle, the image checks beside it (the two hand out
 * workload uids from one claim set), and the updater,
 * which drives the lifecycle. Constructors only: the caller pushes their
 * disposal where shutdown needs it (the operations drain after the intake
 * closed, before the feed and the store do).
 */
export function buildLifecycle(config: Config, deps: LifecycleDeps): LifecycleParts {
  const { docker, store, channel, secrets, log, instanceId, files, admission, egress } = deps;
  const repo = store.containers;
  const releases = store.releases;
  // One claim set for both: a uid chosen by a create or a check is held before the store is asked.
  const uids = new UidClaims(repo, config.uidRange, log);
  const imageChecker: ImageChecker = new ImageChecker({
    config,
    docker,
    files,
    site: deps.checks,
    instanceId,
    uids,
    log,
  });
  const manager = new ContainerManager({
    config,
    images: deps.images,
    docker,
    repo,
    releases,
    channel,
    secrets,
    log,
    instanceId,
    files,
    admission,
    egress,
    uids,
    // Cluster mode: each workload is placed on a node, and its releases' contents kept for the nodes it may move to.
    ...(deps.placement ? { placement: deps.placement, releaseContents: store.releaseContents } : {}),
    ...(deps.locks ? { locks: deps.locks } : {}),
    ...(deps.changes ? { changes: deps.changes } : {}),
    ...(deps.networks ? { networks: deps.networks } : {}),
  });

  const updater = new CodeUpdater({
    config,
    lifecycle: manager.steps,
    releases,
    containers: repo,
    channel,
    files,
    log,
    admission,
    ...(deps.placement ? { releaseContents: store.releaseContents } : {}),
  });
  return { manager, imageChecker, updater };
}
