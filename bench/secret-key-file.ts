/**
 * Where a benchmark's berth keeps its key for secrets at rest: beside its data
 * directory (outside it, as berth requires), never in /etc where a berth run
 * as root would otherwise put it. Removed with the data directory.
 */
export function secretKeyFileBeside(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}.secret.key`;
}
