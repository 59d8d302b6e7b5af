import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { RECOVERABLE_DISCONNECT_REASONS } from "./session-end.ts";

describe("RECOVERABLE_DISCONNECT_REASONS", () => {
  // socket.io does not export its set: read from its source, so that an upgrade that changes it fails here
  // rather than SessionKeeper deleting sessions Socket.IO keeps (or keeping ones it ends).
  it("are the reasons socket.io keeps a session for", () => {
    const main = createRequire(import.meta.url).resolve("socket.io"); // dist/index.js; its socket.js is not exported
    const source = readFileSync(join(dirname(main), "socket.js"), "utf8");
    const set = /const RECOVERABLE_DISCONNECT_REASONS = new Set\(\[([^\]]*)\]\)/.exec(source)?.[1];
    expect(set).toBeDefined();
    const theirs = [...(set ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect([...RECOVERABLE_DISCONNECT_REASONS].sort()).toEqual(theirs.sort());
  });
});
