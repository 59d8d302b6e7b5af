import { formatBytes, formatDuration, formatPercent } from "../format.ts";
import { routeHref } from "../router/route.ts";
import type { Column } from "./column.ts";
import type { ContainerRow } from "./container-store.ts";
import { Sparkline } from "./sparkline.tsx";
import { StateBadge } from "./state-badge.tsx";

const uptimeMs = (row: ContainerRow, now: number): number | undefined =>
  row.info.state === "running" && row.info.startedAt != null ? now - row.info.startedAt : undefined;

export const OVERVIEW_COLUMNS: Column[] = [
  {
    key: "name",
    label: "Name",
    sortValue: (row) => row.info.name,
    cell: (row) => <a href={routeHref({ page: "container", name: row.info.name })}>{row.info.name}</a>,
  },
  {
    key: "owner",
    label: "Owner",
    adminOnly: true,
    sortValue: (row) => row.info.owner,
    cell: (row) => row.info.owner,
  },
  {
    key: "state",
    label: "State",
    sortValue: (row) => row.info.state,
    cell: (row) => <StateBadge kind="state" value={row.info.state} />,
  },
  {
    key: "health",
    label: "Health",
    sortValue: (row) => row.info.health,
    cell: (row) => <StateBadge kind="health" value={row.info.health} />,
  },
  {
    key: "uptime",
    label: "Uptime",
    numeric: true,
    sortValue: uptimeMs,
    cell: (row, now) => {
      const ms = uptimeMs(row, now);
      return ms === undefined ? <Absent /> : formatDuration(ms);
    },
  },
  {
    key: "restarts",
    label: "Restarts",
    numeric: true,
    sortValue: (row) => row.info.restartCount,
    cell: (row) => row.info.restartCount,
  },
  {
    key: "cpu",
    label: "CPU",
    numeric: true,
    sortValue: (row) => row.usage?.cpuPercent,
    cell: (row) =>
      row.usage ? (
        <span class="with-spark">
          <Sparkline history={row.history} metric="cpuPercent" />
          {formatPercent(row.usage.cpuPercent)}
        </span>
      ) : (
        <Absent />
      ),
  },
  {
    key: "memory",
    label: "Memory",
    numeric: true,
    sortValue: (row) => row.usage?.memoryBytes,
    cell: (row) =>
      row.usage ? (
        <span class="with-spark" title={`limit ${formatBytes(row.usage.memoryLimitBytes)}`}>
          <Sparkline history={row.history} metric="memoryBytes" />
          {formatBytes(row.usage.memoryBytes)}
        </span>
      ) : (
        <Absent />
      ),
  },
  {
    key: "image",
    label: "Image",
    sortValue: (row) => row.info.image,
    cell: (row) => <code>{row.info.image}</code>,
  },
];

/** A value that does not apply (a stopped container has no uptime): a dash for the eye, words for a screen reader. */
function Absent() {
  return (
    <>
      <span aria-hidden="true">—</span>
      <span class="visually-hidden">none</span>
    </>
  );
}
