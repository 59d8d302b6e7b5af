import { describe, expect, it } from "vitest";
import { CONTAINER_ID_PATTERN, newContainerId } from "../containers/container-id.ts";
import {
  AGENT_MAX_CODE_BYTES,
  AGENT_MAX_CODE_FILES,
  EntriesSchema,
  FILES_OPS,
  WORKLOAD_ID_PATTERN,
} from "./files-ops.ts";

describe("the files calls an agent accepts", () => {
  it("takes berth's container ids, and only those: the same pattern as containers/container-id.ts", () => {
    expect(WORKLOAD_ID_PATTERN.source).toBe(CONTAINER_ID_PATTERN.source);
    expect(FILES_OPS.removeAll.args.safeParse([newContainerId()]).success).toBe(true);
    for (const id of ["", "c0123456789a", "C0123456789", "C0123456789AB", "../C0123456789A", "C0123456789I"])
      expect(FILES_OPS.removeAll.args.safeParse([id]).success, id).toBe(false);
  });

  it("refuses a release over the agent's own caps, in bytes and in entries", () => {
    const big = { path: "big", kind: "file", content: Buffer.alloc(AGENT_MAX_CODE_BYTES + 1), mode: 0o644 };
    expect(EntriesSchema.safeParse([big]).success).toBe(false);
    const atCap = { ...big, content: Buffer.alloc(AGENT_MAX_CODE_BYTES) };
    expect(EntriesSchema.safeParse([atCap]).success).toBe(true);
    const dirs = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `d${i}`, kind: "dir" }));
    expect(EntriesSchema.safeParse(dirs(AGENT_MAX_CODE_FILES)).success).toBe(true);
    expect(EntriesSchema.safeParse(dirs(AGENT_MAX_CODE_FILES + 1)).success).toBe(false);
  });

  it("takes a file's bytes as Socket.IO hands them over, and nothing that is not binary", () => {
    const entry = (content: unknown) => [{ path: "x", kind: "file", content, mode: 0o644 }];
    const parsed = EntriesSchema.parse(entry(new Uint8Array([1, 2, 3]).buffer));
    expect(parsed[0]).toMatchObject({ content: Buffer.from([1, 2, 3]) });
    expect(Buffer.isBuffer((parsed[0] as { content: unknown }).content)).toBe(true);
    expect(EntriesSchema.safeParse(entry("text")).success).toBe(false);
    expect(EntriesSchema.safeParse(entry({ type: "Buffer", data: [1] })).success).toBe(false);
  });

  it("refuses unknown fields in an entry", () => {
    expect(EntriesSchema.safeParse([{ path: "d", kind: "dir", owner: 0 }]).success).toBe(false);
    expect(EntriesSchema.safeParse([{ path: "d", kind: "device" }]).success).toBe(false);
  });
});
