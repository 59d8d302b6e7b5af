import { describe, expect, it } from "vitest";
import { MAX_LOG_TAIL } from "../monitoring/container-logs.ts";
import { ENGINE_METHODS, MAX_OUTPUT_TAIL } from "./engine-methods.ts";

describe("the bounds of a workload's output over the agent link", () => {
  it("lets an agent start a read or a follow with as many lines as a client may ask, and no more", () => {
    expect(MAX_OUTPUT_TAIL).toBe(MAX_LOG_TAIL);
    expect(ENGINE_METHODS.readLogs.args.safeParse(["abc", { tail: MAX_LOG_TAIL }]).success).toBe(true);
    expect(ENGINE_METHODS.readLogs.args.safeParse(["abc", { tail: MAX_LOG_TAIL + 1 }]).success).toBe(false);
    expect(ENGINE_METHODS.followLogs.args.safeParse(["abc", { tail: MAX_LOG_TAIL + 1 }]).success).toBe(false);
  });
});
