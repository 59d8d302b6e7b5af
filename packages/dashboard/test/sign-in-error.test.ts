import { BerthError, type BerthErrorCode } from "@berth/client";
import { describe, expect, it } from "vitest";
import { signInErrorText } from "../src/session/sign-in-error.ts";

const refusal = (code: BerthErrorCode, message = "the server's own words") =>
  new BerthError({ code, message, category: "auth", retryable: false });

describe("what the sign-in form says when connecting fails", () => {
  it("says the token was not accepted, in words of its own, for UNAUTHORIZED", () => {
    const text = signInErrorText(refusal("UNAUTHORIZED", "pass the token in auth.token"));
    expect(text).toContain("did not accept that token");
    expect(text).not.toContain("auth.token");
  });

  it("tells a refused connection cap and an unreachable berth apart", () => {
    expect(signInErrorText(refusal("TOO_MANY_CONNECTIONS"))).toContain("as many connections");
    expect(signInErrorText(refusal("CONNECTION_FAILED"))).toContain("did not answer");
  });

  it("names the code of any other BerthError, and says something for anything else", () => {
    expect(signInErrorText(refusal("INTERNAL", "oops"))).toBe("Signing in failed (INTERNAL): oops");
    expect(signInErrorText(new Error("x"))).toContain("Try again");
  });
});
