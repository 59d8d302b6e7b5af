import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { type ChartData, describeChart, formatValue, type Unit } from "./usage-series.ts";

/** The colours of a chart's series, in order; the legend's swatches (styles.css, `.swatch-N`) repeat them. */
const STROKES = ["#0a58ca", "#a40e26"];

const HEIGHT = 160;

/**
 * The least top of each chart's scale: an idle container's chart stays flat at the bottom instead of
 * magnifying noise, and its axis reads in round figures (0, 512 B/s, 1 KiB/s rather than 0, 1, 1 B/s).
 */
/** Tick steps for bytes: powers of two (512 KiB, 1 MiB, 2 MiB), which read as round figures in KiB and MiB. */
const BINARY_STEPS = Array.from({ length: 44 }, (_, i) => 2 ** i);

const MIN_TOP: Record<Unit, number> = { percent: 5, bytes: 16 * 1024 * 1024, "bytes-per-second": 1024 };

interface Props {
  /** The chart's name, its heading and the start of its text alternative. */
  title: string;
  data: ChartData;
}

/**
 * One chart of a container's usage over time, drawn by uPlot on a canvas.
 * The canvas is hidden from assistive technology; the caption says in words
 * what it shows (the span, each series' latest value and range), and stays
 * in step with every sample. uPlot sets its sizes through the CSSOM, which
 * the CSP's `style-src 'self'` allows (only style attributes in markup and
 * inline `<style>` are blocked); its stylesheet comes bundled by Vite.
 */
export function UsageChart({ title, data }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const slug = title.toLowerCase().replace(/[^a-z]+/g, "-");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const chart = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(max, MIN_TOP[data.unit])] } },
        axes: [
          {},
          {
            size: 70,
            values: (_u, splits) => splits.map((v) => formatValue(data.unit, v)),
            ...(data.unit === "percent" ? {} : { incrs: BINARY_STEPS }),
          },
        ],
        series: [
          {},
          ...data.series.map((series, i) => ({
            label: series.label,
            stroke: STROKES[i % STROKES.length],
            width: 2,
            spanGaps: false,
            points: { show: false },
          })),
        ],
      },
      [data.times, ...data.series.map((s) => s.values)],
      el,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // The chart is made once per shape (unit and series); new samples go through setData below.
  }, [data.unit, data.series.length]);

  useEffect(() => {
    plot.current?.setData([data.times, ...data.series.map((s) => s.values)]);
  }, [data]);

  return (
    <figure
      class="chart"
      aria-labelledby={`chart-${slug}`}
      data-chart={slug}
      data-samples={data.times.length}
    >
      <figcaption id={`chart-${slug}`}>
        <span class="chart-title">{title}</span>{" "}
        <span class="chart-legend">
          {data.series.map((series, i) => (
            <span key={series.label} class="legend-item">
              <span class={`swatch swatch-${i}`} aria-hidden="true" />
              {series.label}
            </span>
          ))}
        </span>
        <span class="chart-summary">{describeChart(data)}</span>
      </figcaption>
      <div class="chart-canvas" ref={box} aria-hidden="true" />
    </figure>
  );
}
