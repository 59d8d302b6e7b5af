import { describe, expect, it } from "vitest";
import { InOrder } from "./in-order.ts";

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("InOrder", () => {
  it("runs the changes under one key in the order they were asked for, however long each takes", async () => {
    const order = new InOrder();
    const done: string[] = [];
    await Promise.all([
      order.run("messages:a", async () => done.push(await later(30, "unsubscribe"))),
      order.run("messages:a", async () => done.push(await later(1, "subscribe"))),
    ]);
    expect(done).toEqual(["unsubscribe", "subscribe"]);
  });

  it("does not make other keys wait", async () => {
    const order = new InOrder();
    const done: string[] = [];
    await Promise.all([
      order.run("messages:a", async () => done.push(await later(30, "a"))),
      order.run("messages:b", async () => done.push(await later(1, "b"))),
    ]);
    expect(done).toEqual(["b", "a"]);
  });

  it("runs the next change after one that failed, and gives each caller its own outcome", async () => {
    const order = new InOrder();
    const failed = order.run("logs:a", async () => {
      await later(5, undefined);
      throw new Error("not found");
    });
    const next = order.run("logs:a", () => "followed");
    await expect(failed).rejects.toThrow("not found");
    await expect(next).resolves.toBe("followed");
  });

  it("forgets a key once nothing waits under it", async () => {
    const order = new InOrder();
    await order.run("stats:a", () => later(1, 1));
    await later(0, undefined);
    expect(order.size).toBe(0);
  });
});
