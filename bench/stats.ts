export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface Row {
  what: string;
  berth: number[];
  baseline: number[];
}

/** Prints p50/p95 of berth and its baseline, and their ratio, as a Markdown table. */
export function printTable(
  title: string,
  unit: string,
  rows: readonly Row[],
  ps: readonly number[] = [50, 95],
): void {
  const head = ps.flatMap((p) => [`berth p${p}`, `baseline p${p}`, `ratio p${p}`]);
  console.log(`\n### ${title}\n`);
  console.log(`| what | ${head.join(" | ")} |`);
  console.log(`|---|${head.map(() => "---").join("|")}|`);
  for (const row of rows) {
    const cells = ps.flatMap((p) => {
      const b = percentile(row.berth, p);
      const d = percentile(row.baseline, p);
      return [`${b.toFixed(1)} ${unit}`, `${d.toFixed(1)} ${unit}`, `${(b / d).toFixed(2)}×`];
    });
    console.log(`| ${row.what} | ${cells.join(" | ")} |`);
  }
}
