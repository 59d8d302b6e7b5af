import { describe, expect, it } from "vitest";
import { ConnectionCounter } from "./connection-counter.ts";

describe("ConnectionCounter", () => {
  it("caps each owner on its own, and gives a slot back once however often it is released", () => {
    const counter = new ConnectionCounter(2);
    const a1 = counter.take("alice");
    const a2 = counter.take("alice");
    expect(a1 && a2).toBeTruthy();
    expect(counter.take("alice")).toBeUndefined();
    expect(counter.take("bob")).toBeDefined();
    a1?.();
    a1?.();
    expect(counter.count("alice")).toBe(1);
    expect(counter.take("alice")).toBeDefined();
    expect(counter.take("alice")).toBeUndefined();
  });

  it("does not cap when the cap is 0", () => {
    const counter = new ConnectionCounter(0);
    for (let i = 0; i < 100; i++) expect(counter.take("alice")).toBeDefined();
  });
});
