import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import { nodePaths } from "../workload-files/node-paths.ts";

/**
 * The workload files of this node, made by its agent exactly as single-host
 * berth makes them (LocalWorkloadFiles: directories 0755 and release files
 * 0644/0755, owned by the agent, readable by the workload's own uid), under
 * the agent's root: `<root>/data/code/<id>` and `<root>/run/<id>`, the only
 * places the agent's engine lets a workload mount (WorkloadsOnlyEngine).
 */
export class AgentWorkloadFiles extends LocalWorkloadFiles {
  constructor(mountRoot: string) {
    super(nodePaths(mountRoot));
  }
}
