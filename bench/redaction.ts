import { SecretRegistry } from "../src/logging/secret-registry.ts";
import { printTable } from "./stats.ts";

/**
 * Redaction: what it costs one owner to have a 4 KiB output line redacted,
 * and what a create or a delete costs, while other owners hold 10,000
 * secrets — beside the same with no other owner (the baseline: the cost
 * must not depend on the others). A last table shows the former design, one
 * regular expression over every secret rebuilt on each change, for scale.
 * In process, no engine.
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

  // The system matcher's full build, which SecretSet amortises (once the additions reach a quarter of the set).
  const fullBuild: number[] = [];
  const aliceBuild: number[] = [];
  for (let round = 0; round < 10; round++) {
    const fresh = new SecretRegistry();
    for (let o = 0; o < OTHER_OWNERS; o++) fresh.addEnvironment(`owner-${o}`, undefined, env(o));
    fresh.addEnvironment("alice", undefined, env(-1));
    fullBuild.push(time(() => fresh.system.redactString(logLine)));
    aliceBuild.push(time(() => fresh.forOwner("alice").redactString(logLine)));
  }
  printTable(
    "First line after start: the system matcher built over everything (berth) vs alice's own (baseline)",
    "µs",
    [
      {
        what: `build over ${OTHER_OWNERS * SECRETS_EACH + SECRETS_EACH} secrets, then one log line`,
        berth: fullBuild,
        baseline: aliceBuild,
      },
    ],
  );

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
