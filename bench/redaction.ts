import { randomBytes } from "node:crypto";
import { SecretRegistry } from "../src/logging/secret-registry.ts";
import { percentile, printTable } from "./stats.ts";

/**
 * Redaction: what it costs one owner to have a 4 KiB output line redacted,
 * and what a create or a delete costs, while other owners hold 10,000
 * secrets — beside the same with no other owner (the baseline: the cost
 * must not depend on the others). Then secrets at the bounds: one owner at
 * the default quota of 20 containers, each with eight 8 KiB secrets,
 * creating and deleting (each create and delete is synchronous work: the
 * event loop stalls that long); and ten such owners at start-up (time and
 * RSS). A last table shows the design before the per-owner sets, one regular
 * expression over every secret rebuilt on each change, for scale. In
 * process, no engine.
 */
const OTHER_OWNERS = 1_000;
const SECRETS_EACH = 10;
const ROUNDS = 200;

const secret = (owner: number, i: number) =>
  `s3cr3t-${owner}-${i}-${Math.random().toString(36).slice(2, 14)}`;
const env = (owner: number) => {
  const out: Record<string, string> = {};
  for (let i = 0; i < SECRETS_EACH; i++) out[`K${i}`] = secret(owner, i);
  return out;
};

function registry(others: number): SecretRegistry {
  const secrets = new SecretRegistry();
  for (let o = 0; o < others; o++) secrets.addEnvironment(`owner-${o}`, undefined, env(o));
  secrets.addEnvironment("alice", undefined, env(-1));
  secrets.system.redactString("warm-up");
  secrets.forOwner("alice").redactString("warm-up");
  return secrets;
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) * 1000;
}

export async function run(): Promise<void> {
  const crowded = registry(OTHER_OWNERS);
  const alone = registry(0);
  const ascii = `${"lorem ipsum dolor sit amet ".repeat(151)}`.slice(0, 4096);
  const unicode = `${"prix: 5 € — 日本 ".repeat(300)}`.slice(0, 4096);
  const logLine = `{"level":30,"containerId":"C123","op":"create","msg":"creating container","name":"web"}`;
  const rows = {
    ascii: { what: "alice's 4 KiB ASCII line (µs)", berth: [] as number[], baseline: [] as number[] },
    unicode: { what: "alice's 4 KiB non-ASCII line (µs)", berth: [] as number[], baseline: [] as number[] },
    create: {
      what: "create: register 10 secrets + alice's next redaction (µs)",
      berth: [] as number[],
      baseline: [] as number[],
    },
    system: {
      what: "create: + the system log's next line (µs)",
      berth: [] as number[],
      baseline: [] as number[],
    },
    remove: {
      what: "delete: forget 10 secrets + the next lines (µs)",
      berth: [] as number[],
      baseline: [] as number[],
    },
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [secrets, side] of [
      [crowded, "berth"],
      [alone, "baseline"],
    ] as const) {
      const alice = secrets.forOwner("alice");
      rows.ascii[side].push(time(() => alice.redactString(ascii)));
      rows.unicode[side].push(time(() => alice.redactString(unicode)));
      const extra = env(10_000 + round);
      rows.create[side].push(
        time(() => {
          secrets.addEnvironment("alice", undefined, extra);
          alice.redactString(logLine);
        }),
      );
      rows.system[side].push(time(() => secrets.system.redactString(logLine)));
      rows.remove[side].push(
        time(() => {
          secrets.removeEnvironment("alice", undefined, extra);
          alice.redactString(logLine);
          secrets.system.redactString(logLine);
        }),
      );
    }
  }
  printTable(
    `Redaction, alice with ${SECRETS_EACH} secrets; berth: ${OTHER_OWNERS * SECRETS_EACH} other secrets held by ${OTHER_OWNERS} owners; baseline: none`,
    "µs",
    Object.values(rows),
  );

  churnAtQuota();
  startUpAtQuota();

  // Registering every owner's secrets, then the system log's first line.
  const fullBuild: number[] = [];
  const aliceBuild: number[] = [];
  for (let round = 0; round < 10; round++) {
    const fresh = new SecretRegistry();
    for (let o = 0; o < OTHER_OWNERS; o++) fresh.addEnvironment(`owner-${o}`, undefined, env(o));
    fresh.addEnvironment("alice", undefined, env(-1));
    fullBuild.push(time(() => fresh.system.redactString(logLine)));
    aliceBuild.push(time(() => fresh.forOwner("alice").redactString(logLine)));
  }
  printTable("First line after start: the system log's (berth) vs alice's own (baseline)", "µs", [
    {
      what: `after registering ${OTHER_OWNERS * SECRETS_EACH + SECRETS_EACH} secrets, one log line`,
      berth: fullBuild,
      baseline: aliceBuild,
    },
  ]);

  // The former design, for scale: one RegExp over all secrets, rebuilt at the first line after any change.
  const all: string[] = [];
  for (let o = 0; o < OTHER_OWNERS; o++) all.push(...Object.values(env(o)));
  const regexBuild: number[] = [];
  const regexLine: number[] = [];
  for (let round = 0; round < 20; round++) {
    all.push(secret(20_000, round));
    let re: RegExp | undefined;
    regexBuild.push(
      time(() => {
        re = new RegExp(all.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
        ascii.replace(re, "[REDACTED]");
      }),
    );
    regexLine.push(time(() => ascii.replace(re as RegExp, "[REDACTED]")));
  }
  printTable(
    "For scale: the former single RegExp over all secrets (berth column; baseline = today's per-owner matcher)",
    "µs",
    [
      { what: "a change, then one 4 KiB line", berth: regexBuild, baseline: rows.create.berth },
      { what: "a 4 KiB line", berth: regexLine, baseline: rows.ascii.berth },
    ],
  );
}

/** The default container quota, and the secret bounds (logging/secret-limits.ts). */
const QUOTA = 20;
const SECRETS_PER_CONTAINER = 8;

/** One container's worth at the bounds: eight 8 KiB secrets, base64 in 64-character lines (like PEM keys). */
function boundEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (let k = 0; k < SECRETS_PER_CONTAINER; k++) {
    env[`S${k}`] = randomBytes(6000)
      .toString("base64")
      .slice(0, 8000)
      .replace(/(.{64})/g, "$1\n");
  }
  return env;
}

const ms = (us: number[]) => us.map((u) => u / 1000);
const mb = (bytes: number) => Math.round(bytes / 1e6);

/**
 * One tenant at quota creating and deleting: each create registers a
 * container's secrets and writes a system log line and an output line; each
 * delete forgets the oldest container's and writes a system log line. Beside
 * the same churn in an empty registry (the baseline: the cost must not
 * depend on what is held).
 */
function churnAtQuota(): void {
  const rows = {
    create: {
      what: "create: register 64 KiB of secrets + a system and an output line (ms)",
      berth: [] as number[],
      baseline: [] as number[],
    },
    remove: {
      what: "delete: forget 64 KiB of secrets + a system line (ms)",
      berth: [] as number[],
      baseline: [] as number[],
    },
  };
  const rssBefore = process.memoryUsage().rss;
  for (const side of ["berth", "baseline"] as const) {
    const secrets = new SecretRegistry();
    const held: Array<Record<string, string>> = [];
    if (side === "berth") {
      secrets.addEnvironment("bob", undefined, env(1));
      for (let c = 0; c < QUOTA - 1; c++) {
        held.push(boundEnvironment());
        secrets.addEnvironment("mallory", undefined, held.at(-1));
      }
      secrets.system.redactString("warm-up");
    }
    for (let round = 0; round < 100; round++) {
      const created = boundEnvironment();
      rows.create[side].push(
        time(() => {
          secrets.addEnvironment("mallory", undefined, created);
          secrets.system.redactString("created container web");
          secrets.forOwner("mallory").redactString("listening on :8080");
        }),
      );
      held.push(created);
      const gone = side === "berth" ? held.shift() : held.pop();
      rows.remove[side].push(
        time(() => {
          secrets.removeEnvironment("mallory", undefined, gone);
          secrets.system.redactString("deleted container web");
        }),
      );
    }
  }
  printTable(
    `Churn: one tenant at quota (${QUOTA} containers × ${SECRETS_PER_CONTAINER} × 8 KiB secrets) creating and deleting, each a synchronous stall of the event loop; baseline: the same in an empty registry (p100 = max)`,
    "ms",
    [
      { ...rows.create, berth: ms(rows.create.berth), baseline: ms(rows.create.baseline) },
      { ...rows.remove, berth: ms(rows.remove.berth), baseline: ms(rows.remove.baseline) },
    ],
    [50, 99, 100],
  );
  console.log(`\nRSS ${mb(rssBefore)} MB before the churn, ${mb(process.memoryUsage().rss)} MB after.`);
}

/**
 * Start-up with ten owners at quota: every container's secrets registered
 * one after another (as berth does when it loads its containers), then the
 * first system log line and each owner's first line; and what a line costs
 * with that much held.
 */
function startUpAtQuota(): void {
  const OWNERS = 10;
  const environments = Array.from({ length: OWNERS * QUOTA }, boundEnvironment);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const secrets = new SecretRegistry();
  const each: number[] = [];
  const started = performance.now();
  environments.forEach((e, i) => {
    each.push(time(() => secrets.addEnvironment(`owner-${i % OWNERS}`, undefined, e)));
  });
  const firstLine = time(() => {
    secrets.system.redactString("started");
    for (let o = 0; o < OWNERS; o++) secrets.forOwner(`owner-${o}`).redactString("started");
  });
  const total = performance.now() - started;
  global.gc?.();
  const rssAfter = process.memoryUsage().rss;
  console.log(
    `\n### Start-up: ${OWNERS} owners at quota (${OWNERS * QUOTA} containers, ${OWNERS * QUOTA * SECRETS_PER_CONTAINER} secrets of 8 KiB)\n`,
  );
  console.log("| what | value |\n|---|---|");
  console.log(`| register everything, then every first line | ${total.toFixed(0)} ms |`);
  console.log(`| longest single container (the worst stall) | ${(Math.max(...each) / 1000).toFixed(1)} ms |`);
  console.log(`| one container, p50 | ${(percentile(each, 50) / 1000).toFixed(2)} ms |`);
  console.log(`| first lines (system + ${OWNERS} owners) | ${(firstLine / 1000).toFixed(2)} ms |`);
  console.log(`| RSS before → after | ${mb(rssBefore)} MB → ${mb(rssAfter)} MB |`);
  const short = "2026-12-01T14:00:00.000Z info container web (c0ffee) started for owner-3";
  const long = `${"lorem ipsum dolor sit amet ".repeat(151)}`.slice(0, 4096);
  const empty = new SecretRegistry();
  const lines = {
    short: { berth: [] as number[], baseline: [] as number[] },
    long: { berth: [] as number[], baseline: [] as number[] },
  };
  for (let i = 0; i < 500; i++) {
    lines.short.berth.push(time(() => secrets.system.redactString(short)));
    lines.short.baseline.push(time(() => empty.system.redactString(short)));
    lines.long.berth.push(time(() => secrets.system.redactString(long)));
    lines.long.baseline.push(time(() => empty.system.redactString(long)));
  }
  printTable(
    "A system log line with all of that held (berth) vs none (baseline: the fixed rules alone)",
    "µs",
    [
      { what: `a ${short.length}-character line`, ...lines.short },
      { what: "a 4 KiB line", ...lines.long },
    ],
  );
}
