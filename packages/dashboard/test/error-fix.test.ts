import { BerthError } from "@berth/client";
import { describe, expect, it } from "vitest";
import { errorFacts } from "../src/errors/error-fix.ts";

describe("how the dashboard tells a failure", () => {
  it("gives berth's code and message as sent, and what to do about it", () => {
    const err = new BerthError({
      code: "CONFLICT",
      message: "Another operation is in progress on this container.",
      category: "system",
      retryable: true,
    });
    expect(errorFacts(err)).toEqual({
      code: "CONFLICT",
      message: "Another operation is in progress on this container.",
      fix: expect.stringContaining("wait for it to finish"),
    });
  });

  it("has a fix for the client's own errors too", () => {
    expect(errorFacts(BerthError.client("PAYLOAD_TOO_LARGE", "too big")).fix).toContain("send less");
  });

  it("says something plain for what is not a BerthError, without its text", () => {
    const facts = errorFacts(new Error("internal detail at /srv/berth"));
    expect(facts.code).toBe("UNKNOWN");
    expect(JSON.stringify(facts)).not.toContain("/srv/berth");
  });
});
