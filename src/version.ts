import { readFileSync } from "node:fs";

/** berth's version, from its package.json (read once, at load). */
export const BERTH_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
