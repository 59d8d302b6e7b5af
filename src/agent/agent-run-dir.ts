import { join } from "node:path";

/**
 * Where a node agent's workload channels live: `<mount root>/run`, so that a
 * container's socket directory is `<mount root>/run/<id>` — under the root,
 * named after the container — the one place WorkloadsOnlyEngine lets that
 * container mount (a test holds the two together).
 */
export function agentRunDir(mountRoot: string): string {
  return join(mountRoot, "run");
}
