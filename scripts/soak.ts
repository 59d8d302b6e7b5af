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
// `npm run test:soak -- test/fuzz/` runs the soak files under the paths given (their rows replace their old ones).
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

/** A row as published: the test's own, with its file's outcome and when and where it was measured. */
interface PublishedRow extends Row {
  result: string;
  ranAt: string;
  machine: string;
}

const engine = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Docker Engine ${engine.stdout.trim() || "unknown"}, Node.js ${process.versions.node}`;
const ranAt = `${new Date(started).toISOString().slice(0, 16).replace("T", " ")} UTC`;

const fresh: PublishedRow[] = readdirSync(rowsDir)
  .filter((f) => f.endsWith(".json") && f !== "vitest.json")
  .map((f) => JSON.parse(readFileSync(join(rowsDir, f), "utf8")) as Row)
  .map((r) => ({ ...r, result: outcomes.get(r.file) ?? "not reported", ranAt, machine }));
const reported = new Set(fresh.map((r) => r.file));
for (const file of files.filter((f) => !reported.has(f))) {
  fresh.push({
    id: file,
    test: `\`${file}\``,
    did: "—",
    measured: "—",
    invariants: "—",
    file,
    result: `${outcomes.get(file) ?? "did not run"}; reported no figures`,
    ranAt,
    machine,
  });
}

// The rows are kept as JSON beside the table: a run of some files (`-- PATH`) replaces their rows and keeps the others'.
const rowsFile = join(root, "docs/reliability.json");
let kept: PublishedRow[] = [];
try {
  kept = (JSON.parse(readFileSync(rowsFile, "utf8")) as PublishedRow[]).filter(
    (r) => !files.includes(r.file),
  );
} catch {
  // No rows yet: this run writes the first.
}
const order = (f: string) => (SOAK_FILES.indexOf(f) + SOAK_FILES.length + 1) % (SOAK_FILES.length + 1);
const rows = [...kept, ...fresh].sort((a, b) => order(a.file) - order(b.file) || a.id.localeCompare(b.id));
const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", "<br>");
const machines = [...new Set(rows.map((r) => r.machine))];

const lines = [
  "# berth's reliability, measured",
  "",
  "Written by `npm run test:soak` (scripts/soak.ts) from what each soak test measured, on the real Docker engine, one file at a time; nobody types these figures (the rows are kept in reliability.json). `npm test` runs a short version of each test that checks the same invariants without timings.",
  "",
  `- Last run: ${ranAt}, ${minutes.toFixed(1)} min, ${files.length} of ${SOAK_FILES.length} files; Vitest exit code ${vitest.status ?? vitest.signal}`,
  ...machines.map((m) => `- Machine: ${m}`),
  "",
  "| Test | What it did | What it measured | Invariants checked | Result | Run |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${cell(r.test)} | ${cell(r.did)} | ${cell(r.measured)} | ${cell(r.invariants)} | ${r.result} | ${r.ranAt} |`,
  ),
  "",
];
writeFileSync(rowsFile, `${JSON.stringify(rows, null, 2)}\n`);
writeFileSync(join(root, "docs/reliability.md"), lines.join("\n"));
rmSync(rowsDir, { recursive: true, force: true });
console.log(`soak: wrote docs/reliability.md (${fresh.length} rows from this run, ${kept.length} kept)`);
process.exit(vitest.status ?? 1);
