/**
 * What a workload sees of its own confinement, read from inside: the checks of
 * the runtime suite's `hardening` op (test/fixtures/workloads/runtime-suite.js)
 * and more — its cgroup's memory, memory+swap and pids limits, its pid 1, and
 * the mount options of /tmp and of the socket directory. A Node.js one-liner
 * for `node -e` in berth's runtime image (which has no shell): it prints one
 * line, `BERTH-HARDENING {json}`, then idles until stopped.
 */
export const PROBE_SCRIPT = `
const fs = require("node:fs");
const read = (p) => { try { return fs.readFileSync(p, "utf8").replace(/\\0/g, " ").trim(); } catch (e) { return e.code; } };
const errorCode = (fn) => { try { fn(); return "ok"; } catch (e) { return e.code; } };
const status = Object.fromEntries(read("/proc/self/status").split("\\n").filter((l) => l.includes(":\\t")).map((l) => l.split(":\\t").map((s) => s.trim())));
const mounts = read("/proc/self/mounts").split("\\n").map((l) => l.split(" "));
const mountOptions = (dst) => (mounts.find((m) => m[1] === dst) || [])[3] || null;
console.log("BERTH-HARDENING " + JSON.stringify({
  uid: process.getuid(),
  gid: process.getgid(),
  capEff: status.CapEff,
  noNewPrivs: status.NoNewPrivs,
  writeRoot: errorCode(() => fs.writeFileSync("/probe", "x")),
  writeTmp: errorCode(() => { fs.writeFileSync("/tmp/probe", "x"); fs.rmSync("/tmp/probe"); }),
  writeSocketDir: errorCode(() => fs.writeFileSync("/run/berth/probe", "x")),
  interfaces: fs.readdirSync("/sys/class/net").sort(),
  shell: fs.existsSync("/bin/sh"),
  pid1: read("/proc/1/cmdline").split(" ").slice(0, 2).join(" "),
  pidsMax: read("/sys/fs/cgroup/pids/pids.max"),
  memoryLimit: read("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
  memorySwapLimit: read("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
  tmpMount: mountOptions("/tmp"),
  socketDirMount: mountOptions("/run/berth"),
}));
setInterval(() => {}, 1 << 30);
`;

export type ProbeResult = Record<string, unknown>;

/** The probe's line in a container's output (the engine's log stream, 8-byte frame headers and all). */
export function parseProbeOutput(output: string): ProbeResult | undefined {
  const line = output.split("\n").find((l) => l.includes("BERTH-HARDENING "));
  if (!line) return undefined;
  return JSON.parse(line.slice(line.indexOf("BERTH-HARDENING ") + "BERTH-HARDENING ".length)) as ProbeResult;
}
