import { describe, expect, it } from "vitest";
import { Redactor } from "./redactor.ts";
import { SecretSet } from "./secret-set.ts";

const value = (i: number) => `secret-value-${i.toString(36).padStart(6, "0")}-${"x".repeat(40)}`;

describe("SecretSet", () => {
  it("finds a value as soon as it is added, and forgets a small set's removed value at once", () => {
    const set = new SecretSet();
    const r = new Redactor(() => [set]);
    set.add("first-secret");
    expect(r.redactString("first-secret")).toBe("[REDACTED]");
    set.add("second-secret");
    expect(r.redactString("second-secret first-secret")).toBe("[REDACTED] [REDACTED]");
    set.remove("first-secret");
    expect(r.redactString("first-secret")).toBe("first-secret");
  });

  it("does not rebuild a large set on every change: additions go to a small second matcher", () => {
    const set = new SecretSet();
    for (let i = 0; i < 5_000; i++) set.add(value(i));
    const [base] = set.matchers();
    set.add("one-more-secret");
    const after = set.matchers();
    expect(after[0]).toBe(base);
    expect(after).toHaveLength(2);
    const r = new Redactor(() => [set]);
    expect(r.redactString(`one-more-secret ${value(17)}`)).toBe("[REDACTED] [REDACTED]");
    // A removal from a large set keeps the built matcher: over-redaction for a while, never a leak.
    set.remove(value(3));
    expect(set.matchers()[0]).toBe(base);
  });

  it("rebuilds once the additions reach a quarter of the built set", () => {
    const set = new SecretSet();
    for (let i = 0; i < 4_000; i++) set.add(value(i));
    const [base] = set.matchers();
    for (let i = 4_000; i < 5_001; i++) set.add(value(i));
    const after = set.matchers();
    expect(after[0]).not.toBe(base);
    expect(after).toHaveLength(1);
    set.add(value(3));
    expect(set.matchers()).toEqual(after);
  });
});
