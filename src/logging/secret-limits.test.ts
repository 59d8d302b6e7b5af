import { describe, expect, it } from "vitest";
import { ContainerSpec } from "../containers/container-spec.ts";
import { hasUnshowableCharacter } from "./secret-limits.ts";

describe("hasUnshowableCharacter", () => {
  it("accepts printable text, tab, newline, CR and surrogate pairs: PEM keys, JSON key files, emoji", () => {
    for (const value of [
      "-----BEGIN KEY-----\r\nMIIE\tQ==\n-----END KEY-----\n",
      "12;4mXXXXXXXX",
      "p\u{1F511}ss-w\u00f6rd",
      "\u200dzero-width-joiner",
    ]) {
      expect(hasUnshowableCharacter(value), JSON.stringify(value)).toBe(false);
    }
  });

  it("refuses ESC, the other C0 controls, DEL, C1 controls, bidi controls and lone surrogates", () => {
    for (const value of [
      "a\x1b[31mb",
      "a\x00b",
      "a\x07b",
      "a\x7fb",
      "a\x9bb",
      "a\u202eb",
      "a\u2066b",
      "\udc00abc",
      "abc\ud800",
      "a\ud800b",
    ]) {
      expect(hasUnshowableCharacter(value), JSON.stringify(value)).toBe(true);
    }
  });
});

describe("secret values at create", () => {
  it("are refused with an issue naming the variable, never the value, in secretEnv and under secret-looking env keys", () => {
    const value = "canary-\x1b-secret";
    const result = ContainerSpec.safeParse({
      name: "app",
      secretEnv: { STRIPE: value },
      env: { DB_PASSWORD: "canary-\udc00-secret", NOTES: "plain \x1b is fine here" },
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues ?? [];
    expect(issues.map((issue) => issue.path.join(".")).sort()).toEqual([
      "env.DB_PASSWORD",
      "secretEnv.STRIPE",
    ]);
    expect(JSON.stringify(issues)).not.toContain("canary");
  });
});
