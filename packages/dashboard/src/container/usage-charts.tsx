import type { Container } from "@berth/client";
import { useMemo } from "preact/hooks";
import { UsageChart } from "./usage-chart.tsx";
import { cpuData, memoryData, networkData } from "./usage-series.ts";
import { useUsageHistory } from "./use-usage-history.ts";

interface Props {
  container: Container | undefined;
  running: boolean;
}

/** CPU, memory and network over the last minutes: berth's history first, then live. */
export function UsageCharts({ container, running }: Props) {
  const samples = useUsageHistory(container, running);
  const cpu = useMemo(() => cpuData(samples), [samples]);
  const memory = useMemo(() => memoryData(samples), [samples]);
  const network = useMemo(() => networkData(samples), [samples]);
  return (
    <section class="usage" aria-labelledby="usage-heading">
      <h2 id="usage-heading">Usage</h2>
      {!running && samples.length === 0 && <p class="status">No samples: the container is not running.</p>}
      <div class="charts">
        <UsageChart title="CPU" data={cpu} />
        <UsageChart title="Memory" data={memory} />
        <UsageChart title="Network" data={network} />
      </div>
    </section>
  );
}
