import { type LoadResult, perSecond } from "./load.ts";
import { percentile } from "./stats.ts";

/** A duration for people: µs below a millisecond, ms below a second, else s. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function rate(perSec: number): string {
  return perSec >= 100 ? String(Math.round(perSec)) : perSec.toFixed(1);
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

export function table(title: string, head: readonly string[], rows: readonly (readonly string[])[]): void {
  console.log(`\n### ${title}\n`);
  console.log(`| ${head.join(" | ")} |`);
  console.log(`|${head.map(() => "---").join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

/** One measured cell of a path: a payload at a number in flight. */
export interface Cell {
  payload: string;
  inFlight: number;
  result: LoadResult;
}

/**
 * A path's table: p50/p99 latency and answers per second per payload and
 * window, and (when the floor's cells are given) each against the floor.
 */
export function pathTable(title: string, cells: readonly Cell[], floor?: readonly Cell[]): void {
  const head = ["payload", "in flight", "requests", "p50", "p99", "req/s"];
  if (floor) head.push("p50 vs (a)", "req/s vs (a)");
  head.push("errors");
  const rows = cells.map((cell) => {
    const p50 = percentile(cell.result.latenciesMs, 50);
    const row = [
      cell.payload,
      String(cell.inFlight),
      String(cell.result.count),
      duration(p50),
      duration(percentile(cell.result.latenciesMs, 99)),
      rate(perSecond(cell.result)),
    ];
    if (floor) {
      const base = floor.find((f) => f.payload === cell.payload && f.inFlight === cell.inFlight);
      row.push(
        base ? ratio(p50, percentile(base.result.latenciesMs, 50)) : "–",
        base ? ratio(perSecond(cell.result), perSecond(base.result)) : "–",
      );
    }
    row.push(cell.result.errors === 0 ? "0" : `${cell.result.errors} (${cell.result.firstError})`);
    return row;
  });
  table(title, head, rows);
}
