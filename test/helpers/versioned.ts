import { readFileSync } from "node:fs";

const source = readFileSync(new URL("../fixtures/workloads/versioned.js", import.meta.url), "utf8");

/** Code whose answers carry `version`; `healthy: false` makes its health check answer `{ ok: false }`. */
export function versioned(version: string, options: { healthy?: boolean; prelude?: string } = {}) {
  return {
    files: {
      "index.js": `${options.prelude ?? ""}\n${source}`,
      "version.json": JSON.stringify({ version, healthy: options.healthy ?? true }),
    },
  };
}
