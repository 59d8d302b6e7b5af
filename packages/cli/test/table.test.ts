import { describe, expect, it } from "vitest";
import {
  formatAgo,
  formatBytes,
  formatMs,
  formatSpan,
  formatTime,
  formatUptime,
} from "../src/output/format.ts";
import { formatTable } from "../src/output/table.ts";

describe("formatTable", () => {
  const rows = [
    { name: "web", cpu: "1.5%", id: "c1" },
    { name: "a-much-longer-name", cpu: "100.25%", id: "c22" },
  ];
  const columns = [
    { header: "NAME", value: (r: (typeof rows)[number]) => r.name },
    { header: "CPU %", value: (r: (typeof rows)[number]) => r.cpu, right: true },
    { header: "ID", value: (r: (typeof rows)[number]) => r.id },
  ];

  it("aligns columns docker-style: as wide as the widest cell, three spaces apart, numbers right", () => {
    expect(formatTable(rows, columns).split("\n")).toEqual([
      "NAME                   CPU %   ID",
      "web                     1.5%   c1",
      "a-much-longer-name   100.25%   c22",
    ]);
  });

  it("prints the header alone for no rows, and never leaves trailing spaces", () => {
    expect(formatTable([], columns)).toBe("NAME   CPU %   ID");
    const text = formatTable([{ name: "x", cpu: "1", id: "" }], columns);
    for (const line of text.split("\n")) expect(line).toBe(line.trimEnd());
  });

  it("keeps a cell with a newline or tab on one line, so rows stay aligned", () => {
    const text = formatTable([{ name: "a\nb\tc", cpu: "1", id: "i" }], columns);
    expect(text.split("\n")).toHaveLength(2);
    expect(text).toContain("a b c");
  });
});

describe("human forms", () => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0);

  it("says spans as docker ps does", () => {
    expect(formatSpan(1_000)).toBe("1 second");
    expect(formatSpan(59_000)).toBe("59 seconds");
    expect(formatSpan(5 * 60_000)).toBe("5 minutes");
    expect(formatSpan(3 * 3_600_000)).toBe("3 hours");
    expect(formatSpan(3 * 86_400_000)).toBe("3 days");
    expect(formatAgo(now - 120_000, now)).toBe("2 minutes ago");
  });

  it("shows uptime only for a running container", () => {
    expect(formatUptime(now - 3_600_000, now)).toBe("Up 1 hour");
    expect(formatUptime(null, now)).toBe("-");
  });

  it("shows sizes in binary units and durations in ms or s", () => {
    expect(formatBytes(512)).toBe("512B");
    expect(formatBytes(1536)).toBe("1.5KiB");
    expect(formatBytes(128 * 2 ** 20)).toBe("128MiB");
    expect(formatBytes(2 ** 30)).toBe("1GiB");
    expect(formatMs(850)).toBe("850 ms");
    expect(formatMs(1_234)).toBe("1.2 s");
    expect(formatTime(now)).toBe("2026-12-01T12:00:00Z");
  });
});
