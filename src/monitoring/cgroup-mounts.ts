/** A cgroup hierarchy as mounted in berth's mount namespace. */
export interface CgroupMount {
  version: 1 | 2;
  /**
   * The super options of a v1 mount, which name its controllers (`["rw", "cpu", "cpuacct"]`,
   * `["rw", "name=systemd"]`); empty for v2, whose controllers all share the one tree.
   */
  options: string[];
  /** The cgroup that sits at the mount point; "/" unless the hierarchy was bind-mounted from a subtree. */
  root: string;
  mountPoint: string;
}

/**
 * Picks the cgroup mounts out of `/proc/self/mountinfo` (proc(5)):
 * `id parent maj:min root mountpoint options [optional…] - fstype source superoptions`.
 * Reading the mounts rather than assuming `/sys/fs/cgroup/<controller>` finds
 * co-mounted hierarchies (`cpu,cpuacct`), hybrid set-ups (v1 beside
 * `/sys/fs/cgroup/unified`) and unusual mount points alike.
 */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    // The optional fields vary in number, so the file system type is found after the "-".
    const dash = fields.indexOf("-", 6);
    if (dash < 0) continue;
    const fsType = fields[dash + 1];
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    mounts.push({
      version: fsType === "cgroup2" ? 2 : 1,
      options: fsType === "cgroup2" ? [] : (fields[dash + 3] ?? "").split(","),
      root: unescapeOctal(root),
      mountPoint: unescapeOctal(mountPoint),
    });
  }
  return mounts;
}

/** The kernel writes space, tab, newline and backslash in paths as `\040`, `\011`, `\012`, `\134`. */
function unescapeOctal(field: string): string {
  if (!field.includes("\\")) return field;
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
