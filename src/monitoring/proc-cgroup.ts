/** One line of `/proc/<pid>/cgroup`: `hierarchy-id:controller[,controller]:path`. */
export interface CgroupMembership {
  /** 0 is the v2 unified hierarchy. */
  hierarchyId: number;
  /** v1 controllers (`["cpu", "cpuacct"]`, `["name=systemd"]`); empty for v2. */
  controllers: string[];
  /** Relative to the reader's cgroup namespace: `/docker/<id>` or `/system.slice/docker-<id>.scope`. */
  path: string;
}

/**
 * Parses `/proc/<pid>/cgroup` (cgroups(7)). On a v1 or hybrid host there is a
 * line per hierarchy plus possibly `0::/…`; on a pure v2 host only `0::/…`.
 */
export function parseProcCgroup(text: string): CgroupMembership[] {
  const memberships: CgroupMembership[] = [];
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const hierarchyId = Number(line.slice(0, first));
    if (!Number.isInteger(hierarchyId)) continue;
    const list = line.slice(first + 1, second);
    memberships.push({
      hierarchyId,
      controllers: list === "" ? [] : list.split(","),
      // The path is the rest of the line: it may itself contain ":".
      path: line.slice(second + 1),
    });
  }
  return memberships;
}
