import { join } from "node:path";
import { ContainerPaths } from "./container-paths.ts";

/**
 * Where a node agent keeps its workloads' files, under its own root
 * (BERTH_AGENT_MOUNT_ROOT): code directories under `<root>/data/code/<id>`,
 * socket directories under `<root>/run/<id>` — each a directory named after
 * its container, as the agent's mount rule asks (WorkloadsOnlyEngine). The
 * agent writes there, and the API side names the same paths in the create
 * body it sends; both build them here, so they cannot disagree.
 */
export function nodePaths(mountRoot: string): ContainerPaths {
  return new ContainerPaths(join(mountRoot, "data"), join(mountRoot, "run"));
}
