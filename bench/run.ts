/**
 * `npm run bench -- NAME`: runs one benchmark, which compares berth with its
 * baseline in the same run and prints ratios (this machine is shared and
 * noisy, so only same-run comparisons mean anything).
 */
const benches: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  channel: () => import("./channel.ts"),
  lifecycle: () => import("./lifecycle.ts"),
  update: () => import("./update.ts"),
  monitor: () => import("./monitor.ts"),
  "stats-history": () => import("./stats-history.ts"),
  redaction: () => import("./redaction.ts"),
  "json-depth": () => import("./json-depth.ts"),
  "slow-reader": () => import("./slow-reader.ts"),
  runtimes: () => import("./runtimes.ts"),
  metrics: () => import("./metrics.ts"),
  dashboard: () => import("./dashboard.ts"),
  shape: () => import("./shape.ts"),
  "archive-read": () => import("./archive-read.ts"),
  cluster: () => import("./cluster.ts"),
  "agent-link": () => import("./agent-link.ts"),
};

const name = process.argv[2];
const load = name ? benches[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join("|")}>\n`);
  process.exit(2);
}
await (await load()).run();
