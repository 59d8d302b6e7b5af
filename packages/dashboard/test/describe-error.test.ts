import { BerthError } from "@berth/client";
import { describe, expect, it } from "vitest";
import { describeError } from "../src/errors/describe-error.ts";

describe("how the dashboard tells a failure", () => {
  it("gives berth's code and message as sent, and what to do about it", () => {
    const err = new BerthError({
      code: "CONFLICT",
      message: "Another operation (update) is in progress on this container.",
      category: "system",
      retryable: true,
    });
    expect(describeError(err)).toEqual({
      code: "CONFLICT",
      message: "Another operation (update) is in progress on this container.",
      fix: expect.stringContaining("wait for it to finish"),
    });
  });

  it("has a fix for the channel's errors, which the console meets", () => {
    for (const code of [
      "CHANNEL_NOT_CONNECTED",
      "CHANNEL_TIMEOUT",
      "FRAME_TOO_LARGE",
      "WORKLOAD_ERROR",
    ] as const) {
      const err = new BerthError({ code, message: "m", category: "communication", retryable: false });
      expect(describeError(err).fix).not.toContain("berth's operator");
    }
    expect(describeError(BerthError.client("PAYLOAD_TOO_LARGE", "too big")).fix).toContain("send less");
  });

  it("says something plain for what is not a BerthError, without its text", () => {
    const view = describeError(new Error("internal detail at /srv/berth"));
    expect(view.code).toBe("UNKNOWN");
    expect(JSON.stringify(view)).not.toContain("/srv/berth");
  });
});
