import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BerthMetrics } from "./berth-metrics.ts";

const doc = readFileSync(new URL("../../docs/metrics.md", import.meta.url), "utf8");

/** The rows `| \`name\` | type | labels | meaning |` of docs/metrics.md: name → type. */
function documented(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of doc.matchAll(/^\| `([a-z0-9_]+)` \| (counter|gauge|histogram) \|/gm)) {
    rows.set(match[1] as string, match[2] as string);
  }
  return rows;
}

describe("docs/metrics.md", () => {
  it("lists every registered metric with its type, and nothing that is not registered", async () => {
    const metrics = new BerthMetrics({
      perContainer: false,
      version: "0.0.0",
      sources: {
        containers: async () => [],
        connectedClients: () => 0,
        connectedWorkloads: () => 0,
        listeners: () => 0,
      },
    });
    const registered = new Map(
      (await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)] as const),
    );
    expect(Object.fromEntries(documented())).toEqual(Object.fromEntries(registered));
  });
});
