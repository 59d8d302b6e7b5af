import type { ChannelPort } from "../channel/channel-port.ts";
import type { Config } from "../config/config.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import { backfillCpuLimits } from "../containers/cpu-limit-backfill.ts";
import type { InterruptedOperations } from "../containers/interrupted-operation.ts";
import { LeftoverHolds } from "../containers/leftover-holds.ts";
import { OwnerNetworkGuard } from "../containers/owner-network-guard.ts";
import { reconcile } from "../containers/reconciler.ts";
import { Reconciliation } from "../containers/reconciliation.ts";
import type { RestartSupervisor } from "../containers/restart-supervisor.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { PressureMonitor } from "../monitoring/pressure-monitor.ts";
import type { StatsHistory } from "../monitoring/stats-history.ts";
import type { EgressFirewall } from "../network/egress-firewall.ts";
import type { Store } from "../store/store-ports.ts";
import { recoverUpdates } from "../updates/update-recovery.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import type { BerthOptions } from "./berth-options.ts";

export interface BackgroundParts {
  /** Store and engine brought into agreement at start-up and at every return of the engine; retried itself. */
  reconciliation: Reconciliation;
  /** The owner networks' egress filter, put back after each reconciliation and every `egressRecheckMs`. */
  ownerNetworks: OwnerNetworkGuard;
  /** CPU limits an earlier berth left held, given back after a reconciliation. */
  leftoverHolds: LeftoverHolds;
}

export interface BackgroundDeps {
  docker: DockerClient;
  store: Store;
  manager: ContainerManager;
  channel: ChannelPort;
  files: WorkloadFiles;
  instanceId: string;
  log: SystemLogger;
  /** Told what became of each operation a crash cut (the activity feed listens). */
  interrupted: InterruptedOperations;
  egress: EgressFirewall;
  pressure: PressureMonitor;
  history: StatsHistory;
  restarts: RestartSupervisor;
  /** Cluster mode: an orphan's files and channel, on the node its engine handle names (reconciler.ts). */
  orphanLeftovers?: ((containerId: string, dockerId: string) => Promise<void>) | undefined;
}

/**
 * The services that work in the background, each owning its timers and its
 * pass under way: built here, started by `Berth.start()`. A reconciliation
 * pass is followed, in this order, by the updates a crash cut, the history
 * following what ran meanwhile, the owner networks' filter, the CPU limits to
 * backfill, and the leftover holds (in the background).
 */
export function buildBackground(
  config: Config,
  options: BerthOptions,
  deps: BackgroundDeps,
): BackgroundParts {
  const { docker, store, manager, channel, files, instanceId, log, interrupted, pressure, history } = deps;
  const repo = store.containers;
  const ownerNetworks = new OwnerNetworkGuard({
    docker,
    egress: deps.egress,
    instanceId,
    log,
    // Cluster mode: this server's host holds no owner network; each node's agent keeps its own filter.
    allowNetwork: config.allowNetwork && !config.cluster,
    hasOutbound: async () => !config.cluster && (await repo.all()).some((r) => r.spec.network === "outbound"),
    ...(options.egressRecheckMs !== undefined ? { recheckMs: options.egressRecheckMs } : {}),
  });
  const leftoverHolds = new LeftoverHolds({
    docker,
    repo,
    defaults: config,
    heldNanoCpus: pressure.heldNanoCpus,
    isHeld: (id) => pressure.isHeld(id),
    log,
  });
  const reconciliation = new Reconciliation({
    reconcile: (cut) =>
      reconcile({
        docker,
        repo,
        manager,
        channel,
        files,
        instanceId,
        log,
        cut,
        interrupted,
        ...(deps.orphanLeftovers ? { orphanLeftovers: deps.orphanLeftovers } : {}),
      }),
    afterPass: [
      (cut) =>
        recoverUpdates(
          {
            lifecycle: manager.steps,
            releases: store.releases,
            files,
            log: log.child({ component: "UpdateRecovery" }),
            interrupted,
          },
          cut,
        ),
      // What ran before berth started (or while the engine was away) changed no state: follow it here.
      async () => {
        for (const record of await repo.all()) history.follow(record);
      },
      () => ownerNetworks.protect(),
      async () => {
        await backfillCpuLimits({ docker, repo, meta: store.meta, defaults: config, log });
      },
      // In the background (an inspect a container): start-up must not wait for a thousand.
      async () => {
        void leftoverHolds.giveBack();
      },
    ],
    // The restarts a killed berth had due: once, after the first reconciliation that got through —
    // at start-up, or when the engine first returns (this berth's own timers outlive an outage).
    afterFirstPass: () => deps.restarts.resume(),
    log,
    // Cluster mode: only the leading server reconciles (ClusterSteward starts and stops it).
    onlyWhenStarted: config.cluster,
  });
  return { reconciliation, ownerNetworks, leftoverHolds };
}
