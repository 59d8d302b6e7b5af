import { describe, expect, it } from "vitest";
import { InboundBudget } from "./inbound-budget.ts";

describe("InboundBudget", () => {
  it("lets a second's worth of frames through at once, then asks to wait for the debt to refill", () => {
    let now = 0;
    const budget = new InboundBudget({ framesPerSecond: 100, bytesPerSecond: 0 }, () => now);
    for (let i = 0; i < 100; i++) budget.spend(10);
    expect(budget.waitMs()).toBe(0);
    for (let i = 0; i < 20; i++) budget.spend(10);
    expect(budget.waitMs()).toBe(200);
    now += 150;
    expect(budget.waitMs()).toBe(50);
    now += 50;
    expect(budget.waitMs()).toBe(0);
  });

  it("holds on bytes as well, whichever bucket is deeper in debt", () => {
    let now = 0;
    const budget = new InboundBudget({ framesPerSecond: 1000, bytesPerSecond: 10_000 }, () => now);
    budget.spend(15_000);
    expect(budget.waitMs()).toBe(500);
    now += 500;
    expect(budget.waitMs()).toBe(0);
  });

  it("refills no more than one second's worth, however long it was idle", () => {
    let now = 0;
    const budget = new InboundBudget({ framesPerSecond: 10, bytesPerSecond: 0 }, () => now);
    now += 60_000;
    for (let i = 0; i < 11; i++) budget.spend(1);
    expect(budget.waitMs()).toBe(100);
  });

  it("is off when both rates are 0", () => {
    expect(InboundBudget.isOn({ framesPerSecond: 0, bytesPerSecond: 0 })).toBe(false);
    expect(InboundBudget.isOn({ framesPerSecond: 0, bytesPerSecond: 1 })).toBe(true);
  });
});
