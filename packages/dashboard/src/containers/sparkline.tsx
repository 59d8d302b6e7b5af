import type { ResourceUsage } from "@berth/client";
import { HISTORY_WINDOW_MS } from "./usage-history.ts";

type Metric = "cpuPercent" | "memoryBytes";

interface Props {
  history: readonly ResourceUsage[] | undefined;
  metric: Metric;
}

// Drawing units, not pixels (CSS sizes the line): large enough that whole numbers are finer than a pixel,
// and whole numbers turn into text several times faster than fractions — over 200 rows, that counts.
const WIDTH = 1000;
const HEIGHT = 100;

/**
 * Each history's drawn line, by metric: the table renders every second (the
 * uptime ticks) and a row's history only changes when a sample comes, so a
 * line is computed once per sample, not once per render — cheap with 200 rows.
 */
const drawn: Record<Metric, WeakMap<readonly ResourceUsage[], string>> = {
  cpuPercent: new WeakMap(),
  memoryBytes: new WeakMap(),
};

/**
 * A small line of a container's CPU or memory over the last minutes, in
 * SVG (attributes only — nothing the Content-Security-Policy's `style-src`
 * would block). Decorative: the figure beside it is the text a screen reader
 * reads, so the line is hidden from one.
 */
export function Sparkline({ history, metric }: Props) {
  if (!history || history.length < 2) return null;
  let points = drawn[metric].get(history);
  if (points === undefined) {
    points = linePoints(history, metric);
    drawn[metric].set(history, points);
  }
  return (
    <svg
      class={`spark spark-${metric === "cpuPercent" ? "cpu" : "memory"}`}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      preserveAspectRatio="none"
      aria-hidden="true"
      focusable="false"
    >
      {/* The whole window as a faint frame: a line that began a minute ago reads as recent, not as all there is. */}
      <rect class="spark-frame" width={WIDTH} height={HEIGHT} />
      <polyline points={points} />
    </svg>
  );
}

/**
 * The samples as SVG points: time across (the window ending at the newest
 * sample), the value up, scaled to the largest in the window (CPU to at least
 * 1%, so that an idle workload's noise stays a flat line at the bottom).
 */
export function linePoints(history: readonly ResourceUsage[], metric: Metric): string {
  const end = history.at(-1)!.ts;
  const start = end - HISTORY_WINDOW_MS;
  let max = metric === "cpuPercent" ? 1 : 1024 * 1024;
  for (const s of history) if (s[metric] > max) max = s[metric];
  let out = "";
  for (const s of history) {
    const x = ((Math.max(s.ts, start) - start) / HISTORY_WINDOW_MS) * WIDTH;
    const y = HEIGHT - 2 - (s[metric] / max) * (HEIGHT - 4);
    out += `${out === "" ? "" : " "}${Math.round(x)},${Math.round(y)}`;
  }
  return out;
}
