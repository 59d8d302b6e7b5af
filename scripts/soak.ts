// `npm run test:soak`: the long versions of berth's reliability tests (not in
// CI), then docs/reliability.md written from what they measured.
//
// Each soak test reports its own row (test/helpers/reliability-report.ts) into
// a fresh directory once its assertions held; Vitest's JSON report gives each
// file's outcome. The table is rewritten whatever the outcome — a failed run
// is published as failed, not left out — and the exit code is Vitest's.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

/** The soak files, in the table's order; each reads BERTH_SOAK=1 and runs its long version. */
const SOAK_FILES = [
  "test/reliability/berth-kill-rounds.test.ts",
  "test/reliability/engine-restarts.test.ts",
  "test/system/storage-faults.test.ts",
  "test/system/vanishing-clients.test.ts",
  "test/reliability/noisy-neighbours.test.ts",
  "test/reliability/load.test.ts",
  "test/system/mass-create-delete.test.ts",
  "test/reliability/scale.test.ts",
  "test/fuzz/socket-events.fuzz.test.ts",
  "test/fuzz/workload-frames.fuzz.test.ts",
];

interface Row {
  id: string;
  test: string;
  did: string;
  measured: string;
  invariants: string;
  file: string;
}

interface VitestJson {
  testResults: { name: string; status: string; assertionResults: { status: string }[] }[];
}

const rowsDir = mkdtempSync(join(tmpdir(), "berth-soak-"));
const jsonFile = join(rowsDir, "vitest.json");
// `npm run test:soak -- test/fuzz/` runs the soak files under the paths given (the table then has their rows only).
const only = process.argv.slice(2);
const files = SOAK_FILES.filter((f) => only.length === 0 || only.some((o) => f.startsWith(o))).filter((f) => {
  try {
    readFileSync(join(root, f));
    return true;
  } catch {
    console.warn(`soak: ${f} not found; left out`);
    return false;
  }
});
const started = Date.now();
// Vitest on this very Node.js (24), whatever `node` the PATH finds first; one file at a time, since
// each measures latencies and memory that another file's load would distort.
const vitest = spawnSync(
  process.execPath,
  [
    join(root, "node_modules/vitest/vitest.mjs"),
    "run",
    ...files,
    "--no-file-parallelism",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${jsonFile}`,
  ],
  {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      BERTH_SOAK: "1",
      BERTH_FUZZ_RUNS: process.env.BERTH_FUZZ_RUNS ?? "10000",
      BERTH_RELIABILITY_DIR: rowsDir,
    },
  },
);
const minutes = (Date.now() - started) / 60_000;

const outcomes = new Map<string, string>();
try {
  const report = JSON.parse(readFileSync(jsonFile, "utf8")) as VitestJson;
  for (const r of report.testResults) {
    const counts = { passed: 0, failed: 0 };
    for (const a of r.assertionResults)
      if (a.status === "passed" || a.status === "failed") counts[a.status]++;
    outcomes.set(
      relative(root, r.name),
      r.status === "passed"
        ? `passed (${counts.passed} ${counts.passed === 1 ? "test" : "tests"})`
        : `**failed** (${counts.failed} of ${counts.passed + counts.failed})`,
    );
  }
} catch {
  // No JSON: Vitest did not get as far as reporting; every row says so below.
}

const rows = readdirSync(rowsDir)
  .filter((f) => f.endsWith(".json") && f !== "vitest.json")
  .map((f) => JSON.parse(readFileSync(join(rowsDir, f), "utf8")) as Row)
  .sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.id.localeCompare(b.id));
const reported = new Set(rows.map((r) => r.file));
const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", "<br>");
const engine = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });

const lines = [
  "# berth's reliability, measured",
  "",
  "Written by `npm run test:soak` (scripts/soak.ts) from what each soak test measured, on the real Docker engine; nobody types these figures. `npm test` runs a short version of each test that checks the same invariants without timings.",
  "",
  `- Run: ${new Date(started).toISOString().slice(0, 16).replace("T", " ")} UTC, ${minutes.toFixed(1)} min; Vitest exit code ${vitest.status ?? vitest.signal}`,
  `- Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Docker Engine ${engine.stdout.trim() || "unknown"}, Node.js ${process.versions.node}`,
  "",
  "| Test | What it did | What it measured | Invariants checked | Result |",
  "|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${cell(r.test)} | ${cell(r.did)} | ${cell(r.measured)} | ${cell(r.invariants)} | ${outcomes.get(r.file) ?? "not reported"} |`,
  ),
  ...files
    .filter((f) => !reported.has(f))
    .map((f) => `| \`${f}\` | — | — | — | ${outcomes.get(f) ?? "did not run"}; reported no figures |`),
  "",
];
writeFileSync(join(root, "docs/reliability.md"), lines.join("\n"));
rmSync(rowsDir, { recursive: true, force: true });
console.log(`soak: wrote docs/reliability.md (${rows.length} rows)`);
process.exit(vitest.status ?? 1);
