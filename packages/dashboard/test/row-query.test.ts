import type { ContainerInfo, ContainerState } from "@berth/client";
import { describe, expect, it } from "vitest";
import type { Column } from "../src/containers/column.ts";
import type { ContainerRow } from "../src/containers/container-store.ts";
import { applyQuery, DEFAULT_QUERY } from "../src/containers/row-query.ts";

function row(
  name: string,
  state: ContainerState,
  cpuPercent?: number,
  more: Partial<ContainerInfo> = {},
): ContainerRow {
  const info = { id: `id-${name}`, name, state, health: "none", labels: {}, ...more } as ContainerInfo;
  return cpuPercent === undefined
    ? { info }
    : {
        info,
        usage: {
          cpuPercent,
          memoryBytes: 0,
          memoryLimitBytes: 0,
          pids: 1,
          netRxBytes: 0,
          netTxBytes: 0,
          blockReadBytes: 0,
          blockWriteBytes: 0,
          ts: 0,
        },
      };
}

const columns: Column[] = [
  { key: "name", label: "Name", sortValue: (r) => r.info.name, cell: () => null },
  { key: "cpu", label: "CPU", sortValue: (r) => r.usage?.cpuPercent, cell: () => null },
];

const rows = [
  row("web", "running", 12, { labels: { team: "blue" } }),
  row("api", "running", 80, { health: "unhealthy", labels: { team: "red" } }),
  row("cron", "stopped"),
];
const names = (list: ContainerRow[]) => list.map((r) => r.info.name);

describe("the overview's filter and sort", () => {
  it("sorts by name by default", () => {
    expect(names(applyQuery(rows, DEFAULT_QUERY, columns, 0))).toEqual(["api", "cron", "web"]);
  });

  it("filters by state and by part of the name, ignoring case", () => {
    expect(names(applyQuery(rows, { ...DEFAULT_QUERY, state: "running" }, columns, 0))).toEqual([
      "api",
      "web",
    ]);
    expect(names(applyQuery(rows, { ...DEFAULT_QUERY, name: " CR " }, columns, 0))).toEqual(["cron"]);
  });

  it("filters by health, and by a label's key or key=value", () => {
    expect(names(applyQuery(rows, { ...DEFAULT_QUERY, health: "unhealthy" }, columns, 0))).toEqual(["api"]);
    expect(names(applyQuery(rows, { ...DEFAULT_QUERY, label: "team" }, columns, 0))).toEqual(["api", "web"]);
    expect(names(applyQuery(rows, { ...DEFAULT_QUERY, label: "team=blue" }, columns, 0))).toEqual(["web"]);
    expect(names(applyQuery(rows, { ...DEFAULT_QUERY, label: "team=" }, columns, 0))).toEqual([]);
    expect(names(applyQuery(rows, { ...DEFAULT_QUERY, label: "toString" }, columns, 0))).toEqual([]);
  });

  it("sorts numbers as numbers, and rows without a value last in either direction", () => {
    const byCpu = { ...DEFAULT_QUERY, sortKey: "cpu" };
    expect(names(applyQuery(rows, byCpu, columns, 0))).toEqual(["web", "api", "cron"]);
    expect(names(applyQuery(rows, { ...byCpu, descending: true }, columns, 0))).toEqual([
      "api",
      "web",
      "cron",
    ]);
  });

  it("leaves the rows it was given as they were", () => {
    const given = [...rows];
    applyQuery(given, { ...DEFAULT_QUERY, descending: true }, columns, 0);
    expect(given).toEqual(rows);
  });
});
