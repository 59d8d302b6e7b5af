import { describe, expect, it } from "vitest";
import { Redactor } from "./redactor.ts";
import { SecretSet } from "./secret-set.ts";

const value = (i: number) => `secret-value-${i.toString(36).padStart(6, "0")}-${"x".repeat(40)}`;

describe("SecretSet", () => {
  it("finds a value as soon as it is added, and forgets a removed value at once", () => {
    const set = new SecretSet();
    const r = new Redactor(() => [set]);
    set.add("first-secret");
    expect(r.redactString("first-secret")).toBe("[REDACTED]");
    set.add("second-secret");
    expect(r.redactString("second-secret first-secret")).toBe("[REDACTED] [REDACTED]");
    set.remove("first-secret");
    expect(r.redactString("first-secret")).toBe("first-secret");
  });

  it("forgets a removed value at once in a large set too, and finds an added one at once", () => {
    const set = new SecretSet();
    const r = new Redactor(() => [set]);
    for (let i = 0; i < 20_000; i++) set.add(value(i));
    expect(r.redactString(`${value(3)} ${value(19_999)}`)).toBe("[REDACTED] [REDACTED]");
    set.remove(value(3));
    set.add("one-more-secret");
    expect(r.redactString(`${value(3)} one-more-secret ${value(17)}`)).toBe(
      `${value(3)} [REDACTED] [REDACTED]`,
    );
  });

  it("counts registrations: a value stays hidden until its last registration goes", () => {
    const set = new SecretSet();
    const r = new Redactor(() => [set]);
    set.add("shared-secret");
    set.add("shared-secret");
    set.remove("shared-secret");
    expect(r.redactString("shared-secret")).toBe("[REDACTED]");
    set.remove("shared-secret");
    expect(r.redactString("shared-secret")).toBe("shared-secret");
    expect(set.size).toBe(0);
    expect(set.matchers()).toEqual([]);
  });

  it("costs a change what it changes: adding and removing one value does not grow with the set", () => {
    const time = (set: SecretSet, r: Redactor) => {
      const started = process.cpuUsage();
      for (let i = 0; i < 200; i++) {
        set.add(`churn-${i}-${"y".repeat(60)}`);
        r.redactString("a system log line");
        set.remove(`churn-${i}-${"y".repeat(60)}`);
        r.redactString("a system log line");
      }
      const used = process.cpuUsage(started);
      return (used.user + used.system) / 1000;
    };
    const small = new SecretSet();
    const large = new SecretSet();
    for (let i = 0; i < 100_000; i++) large.add(value(i));
    time(small, new Redactor(() => [small])); // warm-up
    const alone = time(small, new Redactor(() => [small]));
    const crowded = time(large, new Redactor(() => [large]));
    // The former design rebuilt an automaton over the set (or over every addition since the last build) on the next line: seconds here.
    expect(crowded).toBeLessThan(Math.max(50, alone * 10));
  });
});
